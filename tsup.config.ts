import { defineConfig, type Options } from 'tsup';

// tfjs stays external so the user's app and this package share one tfjs-core instance; so do the optional
// onnxruntime-node and onnxruntime-web, imported only when their engine starts. No source maps: they were most of the npm package, and tests
// and debugging run on src/ itself. `npm run build` empties dist/ first: the two builds run at once, so neither may clean.
const shared: Options = {
  target: 'es2022',
  external: [/^@tensorflow\//, /^node:/, /^onnxruntime-/],
  shims: true,
};

export default defineConfig([
  // ESM for the library and the command (they share chunks); 'neutral' so that browser bundles get no Node built-ins.
  { ...shared, entry: { index: 'src/index.ts', cli: 'src/cli.ts' }, format: 'esm', platform: 'neutral', dts: { entry: { index: 'src/index.ts' } } },
  // CommonJS for require() users of the library only (the command runs as ESM). Only for Node: 'node' makes esbuild
  // annotate the exports, so Node's ESM import() sees their names.
  { ...shared, entry: { index: 'src/index.ts' }, format: 'cjs', platform: 'node', dts: { entry: { index: 'src/index.ts' } } },
]);
