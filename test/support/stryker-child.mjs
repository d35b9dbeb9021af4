// Loaded into every node child of a test under `npm run mutate` (NODE_OPTIONS=--import, set by
// stryker-setup.ts): on exit, hands the mutants this process reached to the test that started it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.__STRYKER_CHILD_COVERAGE_DIR;
const namespace = process.env.__STRYKER_NAMESPACE ?? '__stryker__';
if (dir) {
  process.on('exit', () => {
    const coverage = globalThis[namespace]?.mutantCoverage;
    if (coverage === undefined) return;
    const reached = { ...coverage.static };
    for (const perTest of Object.values(coverage.perTest ?? {})) Object.assign(reached, perTest);
    if (Object.keys(reached).length > 0) {
      writeFileSync(join(dir, `${process.pid}-${Date.now()}.json`), JSON.stringify(reached));
    }
  });
}
