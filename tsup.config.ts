import { defineConfig } from 'tsup';

// tfjs stays external so the user's app and this package share one tfjs-core instance.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // ESM stays 'neutral' so that browser bundles get no Node built-ins.
  platform: 'neutral',
  esbuildOptions(options, { format }) {
    // CommonJS is only for Node: 'node' makes esbuild annotate the exports, so Node's ESM import() sees their names.
    if (format === 'cjs') options.platform = 'node';
  },
  external: [/^@tensorflow\//, /^node:/],
  shims: true,
});
