import { configDefaults, defineConfig } from 'vitest/config';
import HeaviestFirst from './test/helpers/heaviest-first';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // `npm run test:integration` runs those (they pack and install the package).
    exclude: [...configDefaults.exclude, 'test/integration/**'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: numeric tests are single-threaded wasm, so two workers keep both busy.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    sequence: { sequencer: HeaviestFirst },
  },
});
