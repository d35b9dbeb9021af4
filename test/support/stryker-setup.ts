/**
 * Setup for `npm run mutate` only (vitest.stryker.config.ts). Stryker's vitest runner activates a
 * mutant and counts coverage inside the test process; most worker and runner tests run the
 * bundles in dist/ as child processes, which it cannot see. So: the active mutant travels to
 * children in `__STRYKER_ACTIVE_MUTANT__` (read by the instrumented code itself), and each node
 * child reports the mutants it reached (stryker-child.mjs), credited to the test that ran it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, inject, type RunnerTestCase } from 'vitest';

declare module 'vitest' {
  interface ProvidedContext {
    mode: 'dry-run' | 'mutant';
    activeMutant: string;
    globalNamespace: string;
    testNameSeparator: string;
  }
}

interface Coverage {
  static: Record<string, number>;
  perTest: Record<string, Record<string, number>>;
}

const namespace = inject('globalNamespace') ?? '__stryker__';
const mode = inject('mode');
const separator = inject('testNameSeparator') ?? ' ';
const dir = mkdtempSync(join(tmpdir(), 'iwomp-stryker-child-'));
const childImport = join(import.meta.dirname, 'stryker-child.mjs');

process.env.__STRYKER_NAMESPACE = namespace;
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${childImport}`.trim();

beforeAll(() => {
  if (mode === 'mutant') {
    process.env.__STRYKER_ACTIVE_MUTANT__ = inject('activeMutant');
    delete process.env.__STRYKER_CHILD_COVERAGE_DIR;
  } else {
    delete process.env.__STRYKER_ACTIVE_MUTANT__;
    mkdirSync(dir, { recursive: true });
    process.env.__STRYKER_CHILD_COVERAGE_DIR = dir;
  }
});

afterEach(({ task }) => {
  if (mode === 'mutant') return;
  const reached: Record<string, number> = {};
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    Object.assign(reached, JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>);
    rmSync(file);
  }
  if (Object.keys(reached).length === 0) return;
  const global = globalThis as Record<string, unknown>;
  global[namespace] ??= {};
  const ns = global[namespace] as { mutantCoverage?: Coverage };
  ns.mutantCoverage ??= { static: {}, perTest: {} };
  const id = testId(task);
  ns.mutantCoverage.perTest[id] ??= {};
  const mine = ns.mutantCoverage.perTest[id];
  for (const [mutant, hits] of Object.entries(reached)) mine[mutant] = (mine[mutant] ?? 0) + hits;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The id Stryker's own setup gives a test (its stryker-setup.js): file#suite names and test name. */
function testId(task: RunnerTestCase): string {
  const names = [task.name];
  for (let suite = task.suite; suite; suite = suite.suite) names.unshift(suite.name);
  return `${task.file?.filepath ?? 'unknown.js'}#${names.join(separator).trim()}`;
}
