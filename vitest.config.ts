import { defineConfig } from 'vitest/config';

// Three layers, each runnable alone (`npx vitest run --project unit`); `npm test` runs them all.
// - unit: pure code, no Redis or PostgreSQL (CI runs it once with both unreachable to keep it so);
// - integration: a module beside its code against the real Redis and PostgreSQL (`*.int.test.ts`);
// - system: the product from outside (`test/`): spawned functions, crashes, chaos, hostile clients, a browser.
const SERVICES = ['test/support/global-setup.ts'];

export default defineConfig({
  test: {
    exclude: ['node_modules/**', '.data/**'],
    pool: 'forks',
    // Two cores: more workers only queue up behind PostgreSQL and the spawned functions.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: ['**/*.int.test.ts', 'node_modules/**', '.data/**'] } },
      { extends: true, test: { name: 'integration', include: ['**/*.int.test.ts'], exclude: ['test/**', 'node_modules/**', '.data/**'], globalSetup: SERVICES } },
      { extends: true, test: { name: 'system', include: ['test/**/*.int.test.ts'], globalSetup: SERVICES } },
    ],
  },
});
