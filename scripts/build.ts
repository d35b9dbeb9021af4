/**
 * Bundles each runtime entry into one file under dist/: what CodeBuild, Lambda and users run
 * carries its dependencies and nothing else.
 */
import { chmod, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';

/** Entry name → source. `bin` entries get a shebang and the executable bit. */
export const entries = {
  worker: { source: 'src/entries/worker.ts', bin: true },
  launcher: { source: 'src/entries/launcher.ts', bin: false },
  cli: { source: 'src/entries/cli.ts', bin: true },
  'local-runner': { source: 'src/entries/local-runner.ts', bin: false },
} as const;

/** Options shared by every bundle; the infrastructure's launcher asset uses the same. */
export const bundleOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // The SDK's ESM builds: the CJS ones use dynamic require of node built-ins, which fails in ESM.
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // CJS dependencies (commander, picomatch) still call require(): give them one.
  banner: {
    js: "import { createRequire as __iwompRequire } from 'node:module'; const require = __iwompRequire(import.meta.url);",
  },
};

/**
 * Options for a Lambda bundle (the launcher): `bundleOptions`, except that the SDK's default
 * credential chain (profiles, SSO, web identity, IMDS, and the STS/SSO clients they need: 136 KB
 * of 531) is swapped for the environment variables Lambda sets for the execution role
 * (src/adapters/aws/env-credentials.ts). Not for the worker: CodeBuild serves credentials over HTTP.
 */
export const lambdaBundleOptions: BuildOptions = {
  ...bundleOptions,
  alias: {
    '@aws-sdk/credential-provider-node': fileURLToPath(
      new URL('../src/adapters/aws/env-credentials.ts', import.meta.url),
    ),
  },
};

/** Entries that run as Lambda handlers, bundled with `lambdaBundleOptions`. */
export const lambdaEntries: ReadonlySet<keyof typeof entries> = new Set(['launcher']);

/**
 * Build options for one entry. Node entries are split (`chunks/`): code reached only through a
 * dynamic import, such as the AWS SDK behind the SSM registry, sits in a chunk that a run on the
 * folder registry never reads, let alone compiles. Each entry is built on its own, so its chunks
 * are the same bytes whoever builds it (the infrastructure's worker asset does too). The Lambda
 * bundle stays one file.
 */
export function entryBuildOptions(name: keyof typeof entries, outdir: string): BuildOptions {
  const entry = entries[name];
  const banner = bundleOptions.banner?.js ?? '';
  const lambda = lambdaEntries.has(name);
  return {
    ...(lambda ? lambdaBundleOptions : bundleOptions),
    entryPoints: { [name]: entry.source },
    outdir,
    ...(lambda ? {} : { splitting: true, chunkNames: `chunks/${name}-[hash]` }),
    banner: { js: entry.bin ? `#!/usr/bin/env node\n${banner}` : banner },
  };
}

export async function main(): Promise<void> {
  await rm('dist/chunks', { recursive: true, force: true });
  for (const name of Object.keys(entries) as Array<keyof typeof entries>) {
    await build(entryBuildOptions(name, 'dist'));
    if (entries[name].bin) await chmod(`dist/${name}.js`, 0o755);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
