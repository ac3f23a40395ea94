// `npm run test:integration`: the packed package installed in a scratch project as the README tells a user;
// `npm test` leaves these out (vitest.config.ts excludes test/integration/).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    // Packing and installing the package.
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
