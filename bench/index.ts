/**
 * `npm run bench`: every benchmark, in one run, so ratios compare figures measured side by side.
 * Each module exports `run()`, which prints its figures. Needs `npm run build` first.
 */
const suites: Array<[string, () => Promise<{ run: () => Promise<void> }>]> = [
  ['worker', () => import('./worker.js')],
  ['cli', () => import('./cli.js')],
  ['local', () => import('./local.js')],
  ['launcher', () => import('./launcher.js')],
];

const only = process.argv[2];
for (const [name, load] of suites) {
  if (only && name !== only) continue;
  console.log(`\n== ${name}`);
  await (await load()).run();
}
