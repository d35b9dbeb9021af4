import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite as Stryker runs it: without the CDK tests (their asset bundling clashes with
 * Stryker's runner processes, and no mutated module is infrastructure), and with a setup that
 * lets mutants reach, and coverage come back from, the bundles the tests run as child processes.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['test/infra/**', '**/node_modules/**'],
      setupFiles: ['test/support/stryker-setup.ts'],
    },
  }),
);
