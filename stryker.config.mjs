// Mutation testing (`npm run mutate`, on Node 22 installed into tools/node22 by the script): see docs/testing.md.
// One module at a time while developing: `npm run mutate -- --mutate 'src/core/**/*.ts'`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.stryker.config.ts', related: false },
  mutate: ['src/core/**/*.ts', 'src/worker/**/*.ts', 'src/launcher/**/*.ts'],
  // Stryker rewrites tsconfig.json with the TypeScript JS API, which the native TypeScript 7
  // compiler does not ship; nothing here needs the rewrite (no `extends`, no references).
  tsconfigFile: 'no-tsconfig-rewrite.json',
  // The worker, runner and launcher tests run the bundles in dist/: build them from the mutated sources.
  buildCommand: 'npm run build --silent',
  coverageAnalysis: 'perTest',
  // Module-level constants would need every test run per mutant; the rules live in functions.
  ignoreStatic: true,
  // Two shared cores: more runners only queue for them.
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['cdk.out', '.iwomp', 'reports', 'coverage'],
};
