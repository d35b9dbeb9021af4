/**
 * What `npm run build` bundles and how, as data: the build script and the construct's asset
 * bundling both read it, so what is deployed is byte for byte what `dist/` holds. No I/O here,
 * and no esbuild at run time (its types only): the published construct imports this module.
 */
import type { BuildOptions } from 'esbuild';

/**
 * How an entry runs. `lambda`: a Lambda handler, one file, with the Lambda credential swap
 * (see {@link lambdaBundleOptions}). `program`: a Node.js program, split into chunks. `library`:
 * a module for other people's code (the construct), its peer dependencies left out.
 */
export type EntryKind = 'lambda' | 'program' | 'library';

export interface BundleEntry {
  /** Source file, relative to the package root. */
  readonly source: string;
  readonly kind: EntryKind;
  /** A command on the PATH (package.json `bin`): gets a shebang and the executable bit. */
  readonly bin: boolean;
}

/**
 * Every bundle, by output name (`dist/<name>.js`). A new Lambda is one more `kind: 'lambda'` line
 * here; the construct bundles it with {@link entryBuildOptions} like the launcher.
 */
export const entries = {
  worker: { source: 'src/entries/worker.ts', kind: 'program', bin: true },
  launcher: { source: 'src/entries/launcher.ts', kind: 'lambda', bin: false },
  notifier: { source: 'src/entries/notifier.ts', kind: 'lambda', bin: false },
  cli: { source: 'src/entries/cli.ts', kind: 'program', bin: true },
  'local-runner': { source: 'src/entries/local-runner.ts', kind: 'program', bin: false },
  'infra/index': { source: 'src/infra/index.ts', kind: 'library', bin: false },
} as const satisfies Record<string, BundleEntry>;

export type EntryName = keyof typeof entries;

/** The entries that run as Lambda handlers. */
export type LambdaEntryName = {
  [K in EntryName]: (typeof entries)[K]['kind'] extends 'lambda' ? K : never;
}[EntryName];

export const entryNames = Object.keys(entries) as EntryName[];

export const lambdaEntryNames = entryNames.filter(
  (name): name is LambdaEntryName => entries[name].kind === 'lambda',
);

/**
 * What the construct's bundle leaves to the user's app: one copy of the CDK per app (two copies
 * break `instanceof` and `Stack.of`), and esbuild, which it loads only where the sources are
 * (a checkout of this repository), never from an installed package.
 */
export const LIBRARY_EXTERNALS = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'esbuild'];

/** Options shared by every bundle. */
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
  // CJS dependencies (commander) still call require(): give them one.
  banner: {
    js: "import { createRequire as __iwompRequire } from 'node:module'; const require = __iwompRequire(import.meta.url);",
  },
};

/**
 * Options for a Lambda bundle: `bundleOptions`, except that the SDK's default credential chain
 * (profiles, SSO, web identity, IMDS, and the STS/SSO clients they need: 136 KB of 531) is
 * swapped for the environment variables Lambda sets for the execution role
 * (src/adapters/aws/env-credentials.ts). Not for the worker: CodeBuild serves credentials over
 * HTTP. The alias is relative: esbuild resolves it in `absWorkingDir`, the package root.
 */
export const lambdaBundleOptions: BuildOptions = {
  ...bundleOptions,
  alias: { '@aws-sdk/credential-provider-node': './src/adapters/aws/env-credentials.ts' },
};

/**
 * Build options for one entry, written to `outdir`, with sources resolved from `packageRoot`.
 * Programs are split (`chunks/`): code reached only through a dynamic import, such as the AWS
 * SDK behind the SSM registry, sits in a chunk that a run on the folder registry never reads,
 * let alone compiles. Each entry is built on its own, so its chunks are the same bytes whoever
 * builds it (the construct's worker asset does too). A Lambda bundle stays one file.
 */
export function entryBuildOptions(name: EntryName, outdir: string, packageRoot: string): BuildOptions {
  const entry: BundleEntry = entries[name];
  const banner = bundleOptions.banner?.js ?? '';
  const split = entry.kind === 'program' ? { splitting: true, chunkNames: `chunks/${name}-[hash]` } : {};
  const external = entry.kind === 'library' ? { external: LIBRARY_EXTERNALS } : {};
  return {
    ...(entry.kind === 'lambda' ? lambdaBundleOptions : bundleOptions),
    absWorkingDir: packageRoot,
    entryPoints: { [name]: entry.source },
    outdir,
    ...split,
    ...external,
    banner: { js: entry.bin ? `#!/usr/bin/env node\n${banner}` : banner },
  };
}
