/**
 * How the infrastructure gets its code. In a checkout of this repository (the sources are there)
 * the Lambda handlers and the worker are bundled at synth time with the local esbuild and the
 * very options of `npm run build` (src/infra/bundle-options.ts). From the installed npm package
 * (no sources, no esbuild) the bundles `npm pack` built into `dist/` are copied as they are.
 * Either way what is deployed is byte for byte what `dist/` holds and the benchmarks measure.
 */

import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, AssetStaging, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { InternalError } from '../core/errors.js';
import { type EntryName, entries, entryBuildOptions, type LambdaEntryName } from './bundle-options.js';

/**
 * The package root: sources, `dist/` and `node_modules` are found from here. This module sits
 * two levels down both as a source (src/infra/) and bundled (dist/infra/index.js).
 */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The worker's entry file inside its asset, beside its `chunks/` and a package.json saying it is ESM. */
export const WORKER_FILE = 'worker.js';

/** The handler file of a Lambda asset: `.mjs`, because the asset has no package.json. */
const LAMBDA_FILE = 'index.mjs';

/** Where an entry's code comes from: its source (a checkout) or its prebuilt bundle (the package). */
export function codeOrigin(name: EntryName, root = packageRoot): 'sources' | 'prebuilt' {
  return existsSync(join(root, entries[name].source)) ? 'sources' : 'prebuilt';
}

/** The code of a Lambda entry: `index.mjs`, exporting `handler`. */
export function lambdaCode(name: LambdaEntryName): lambda.Code {
  const origin = codeOrigin(name);
  return lambda.Code.fromAsset(assetSource(origin), {
    // Assets share a source directory: only their output tells them apart.
    assetHashType: AssetHashType.OUTPUT,
    bundling: localOnly(name, (outputDir) => {
      if (origin === 'sources') {
        buildEntry(name, outputDir);
        renameSync(join(outputDir, `${name}.js`), join(outputDir, LAMBDA_FILE));
      } else {
        copyFileSync(prebuilt(`${name}.js`), join(outputDir, LAMBDA_FILE));
      }
    }),
  });
}

/**
 * Asset bundling that writes the worker bundle into the asset exactly as `npm run build` writes
 * it into dist/ (`worker.js` and its `chunks/`), plus a package.json that marks it ESM.
 */
export function workerAsset(): {
  path: string;
  assetHashType: AssetHashType;
  bundling: { image: DockerImage; command: string[]; local: ILocalBundling };
} {
  const origin = codeOrigin('worker');
  return {
    path: assetSource(origin),
    assetHashType: AssetHashType.OUTPUT,
    bundling: localOnly('worker', (outputDir) => {
      if (origin === 'sources') {
        buildEntry('worker', outputDir);
      } else {
        copyFileSync(prebuilt(WORKER_FILE), join(outputDir, WORKER_FILE));
        mkdirSync(join(outputDir, 'chunks'));
        for (const chunk of readdirSync(prebuilt('chunks')).filter((f) => f.startsWith('worker-'))) {
          copyFileSync(prebuilt(join('chunks', chunk)), join(outputDir, 'chunks', chunk));
        }
      }
      writeFileSync(join(outputDir, 'package.json'), '{"type":"module"}\n');
    }),
  };
}

/** The directory an asset is fingerprinted from when bundling is skipped. */
function assetSource(origin: 'sources' | 'prebuilt'): string {
  return join(packageRoot, origin === 'sources' ? 'src' : 'dist');
}

function prebuilt(file: string): string {
  const path = join(packageRoot, 'dist', file);
  if (!existsSync(path)) {
    throw new InternalError(`${path} is missing: this package was not built (npm run build)`);
  }
  return path;
}

function buildEntry(name: EntryName, outputDir: string): void {
  // Loaded here, not imported: an installed package has no esbuild, and needs none.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ ...entryBuildOptions(name, outputDir, packageRoot), logLevel: 'error' });
}

/**
 * Local bundling only: the Docker image is a required field that is never used, because local
 * bundling either succeeds or throws. The command is never run either, but it names the entry:
 * the CDK keys its bundling cache on the source directory and these options, not on the local
 * function, so without it two entries of one directory would share one bundle.
 */
function localOnly(
  name: EntryName,
  bundle: (outputDir: string) => void,
): { image: DockerImage; command: string[]; local: ILocalBundling } {
  return {
    image: DockerImage.fromRegistry('local-bundling-only'),
    command: ['iwomp-bundle', name],
    local: {
      tryBundle(outputDir: string): boolean {
        bundle(outputDir);
        return true;
      },
    },
  };
}

/**
 * The SHA-256 of every file of a staged asset, by path inside it (sorted): what the build checks
 * before it runs the worker.
 */
export function assetDigests(asset: s3assets.Asset): { path: string; sha256: string }[] {
  const staging = asset.node.tryFindChild('Stage');
  if (!(staging instanceof AssetStaging)) throw new InternalError(`asset ${asset.node.path} has no staging`);
  const root = staging.absoluteStagedPath;
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      return entry.isDirectory() ? walk(path) : [path];
    });
  return walk('')
    .sort()
    .map((path) => ({
      path,
      sha256: createHash('sha256')
        .update(readFileSync(join(root, path)))
        .digest('hex'),
    }));
}
