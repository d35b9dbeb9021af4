/**
 * Bundles each runtime entry into one file under dist/: what CodeBuild, Lambda and users run
 * carries its dependencies and nothing else.
 */
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuildOptions, build, buildSync } from 'esbuild';

/** Entry name → source. `bin` entries get a shebang and the executable bit. */
export const entries = {
  worker: { source: 'src/entries/worker.ts', bin: true },
  launcher: { source: 'src/entries/launcher.ts', bin: false, lambda: true },
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
 * Options for a Lambda bundle: credentials come from the environment Lambda sets, so the SDK's
 * default provider chain (SSO, profiles, STS clients: 136 KB) is swapped for a few lines.
 */
export const lambdaBundleOptions: BuildOptions = {
  ...bundleOptions,
  alias: { '@aws-sdk/credential-provider-node': './src/adapters/aws/env-credentials.ts' },
};

/**
 * The launcher as a Lambda asset. Lambda treats a `.js` file as CommonJS unless a package.json
 * says otherwise, so the asset's file is `index.mjs` and the handler `index.handler`.
 */
export const launcherLambda = {
  source: 'src/entries/launcher.ts',
  fileName: 'index.mjs',
  handler: 'index.handler',
} as const;

/**
 * Writes the launcher Lambda asset (`<outdir>/index.mjs`). Synchronous, so a CDK asset's local
 * bundling can call it. `root` is the package root (esbuild resolves the entry and alias from it).
 */
export function buildLauncherAssetSync(outdir: string, root: string = process.cwd()): string {
  buildSync({
    ...lambdaBundleOptions,
    absWorkingDir: root,
    entryPoints: [launcherLambda.source],
    outfile: join(outdir, launcherLambda.fileName),
  });
  return join(outdir, launcherLambda.fileName);
}

async function main(): Promise<void> {
  for (const [name, entry] of Object.entries(entries)) {
    const outfile = `dist/${name}.js`;
    const banner = bundleOptions.banner?.js ?? '';
    await build({
      ...('lambda' in entry && entry.lambda ? lambdaBundleOptions : bundleOptions),
      entryPoints: [entry.source],
      outfile,
      banner: { js: entry.bin ? `#!/usr/bin/env node\n${banner}` : banner },
    });
    if (entry.bin) await chmod(outfile, 0o755);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
