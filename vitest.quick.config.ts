// `npm run test:quick`: every unit test and one Keras fixture config per family (test/helpers/quick.ts), without the
// fuzzers, soak tests, notebooks, the browser and the docs' examples, which `npm test` runs.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      env: { KERAS_APPS_QUICK: '1' },
      exclude: [
        'test/memory.test.ts', 'test/h5-fuzz.test.ts', 'test/h5-checksums-fuzz.test.ts', 'test/features-fuzz.test.ts', 'test/docs.test.ts',
        'test/notebook.test.ts', 'test/transfer-notebook.test.ts', 'test/transfer-fine-tune.test.ts', 'test/browser.test.ts',
        'test/image-browser.test.ts', 'test/wasm-threads.test.ts', 'test/legacy-official-weights.test.ts',
        'test/*-docs.test.ts', 'node_modules/**',
      ],
    },
  }),
);
