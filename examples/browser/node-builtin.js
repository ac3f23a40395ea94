// tfjs-backend-wasm's ESM bundle imports Node's fs, os, path and perf_hooks for its Node code path, which a browser
// never takes: the import map points those names here.
export default {};
