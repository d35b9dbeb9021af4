/**
 * `npm run bench`: every benchmark in one run, so ratios compare figures measured side by side, then
 * one table: each figure, its goal and its anchor. `npm run bench -- --json` prints the same rows
 * as JSON on stdout (progress goes to stderr either way); `npm run bench -- worker launcher` runs
 * only the suites named. Needs `npm run build` first.
 *
 * The machine these figures come from is shared and noisy: they are medians of one run.
 */
import { type Figure, formatTable, meetsGoal } from './figures.js';

type Suite = () => Promise<{ run: () => Promise<Figure[]> }>;

const suites: Array<[string, Suite]> = [
  ['worker', () => import('./worker.js')],
  ['monorepo', () => import('./monorepo.js')],
  ['launcher', () => import('./launcher.js')],
  ['lifecycle', () => import('./lifecycle.js')],
  ['cli', () => import('./cli.js')],
  ['local', () => import('./local.js')],
  ['wait', () => import('./wait.js')],
];

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.filter((a) => !a.startsWith('--'));
const unknown = only.filter((name) => !suites.some(([s]) => s === name));
if (unknown.length > 0) {
  process.stderr.write(
    `iwomp: unknown benchmark ${unknown.join(', ')} (have ${suites.map(([s]) => s).join(', ')})\n`,
  );
  process.exit(2);
}

const figures: Figure[] = [];
for (const [name, load] of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  const started = performance.now();
  process.stderr.write(`bench: ${name}…\n`);
  figures.push(...(await (await load()).run()));
  process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (json) {
  process.stdout.write(
    `${JSON.stringify(
      figures.map((f) => ({ ...f, met: meetsGoal(f) ?? null })),
      null,
      2,
    )}\n`,
  );
} else {
  process.stdout.write(`\n${formatTable(figures)}\n`);
}
