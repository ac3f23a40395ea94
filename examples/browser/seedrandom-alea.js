// The ESM face of seedrandom for tfjs-backend-cpu (`seedrandom.alea`): index.html loads seedrandom's
// alea.js as a classic script, which puts it on window.
export const alea = globalThis.alea;
