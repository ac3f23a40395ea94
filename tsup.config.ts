import { defineConfig } from 'tsup';

// tfjs stays external so the user's app and this package share one tfjs-core instance.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: [/^@tensorflow\//, /^node:/],
  shims: true,
});
