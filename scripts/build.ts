/**
 * Bundles each runtime entry into one file under dist/: what CodeBuild, Lambda and users run
 * carries its dependencies and nothing else. The entries and their options are data in
 * src/infra/bundle-options.ts, shared with the construct's asset bundling.
 *
 * `--declarations` also writes the construct's type declarations (dist/types/), which only the
 * published package needs (`prepack`): tests and `cdk synth` read the sources.
 */
import { execFileSync } from 'node:child_process';
import { chmod, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { entries, entryBuildOptions, entryNames } from '../src/infra/bundle-options.js';

const root = fileURLToPath(new URL('../', import.meta.url));

export async function main(argv: string[]): Promise<void> {
  await rm(`${root}dist/chunks`, { recursive: true, force: true });
  for (const name of entryNames) {
    await build(entryBuildOptions(name, `${root}dist`, root));
    if (entries[name].bin) await chmod(`${root}dist/${name}.js`, 0o755);
  }
  if (argv.includes('--declarations')) {
    await rm(`${root}dist/types`, { recursive: true, force: true });
    // The native TypeScript compiler (v7) emits declarations; its JavaScript is not used.
    execFileSync(`${root}node_modules/.bin/tsc`, ['-p', `${root}tsconfig.declarations.json`], {
      stdio: 'inherit',
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
