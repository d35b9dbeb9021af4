/**
 * How the infrastructure gets its code: the launcher and the worker are bundled at synth time
 * with the local esbuild and the very options of `npm run build`, so what is deployed is byte for
 * byte what `dist/` holds and the benchmarks measure.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { buildSync } from 'esbuild';
import { entries, entryBuildOptions, lambdaBundleOptions } from '../../scripts/build.js';
import { InternalError } from '../core/errors.js';

/** The package root: entries, the lock file and `node_modules` are found from here. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Source of the launcher's Lambda handler (`handler` export). */
export const launcherEntry = join(packageRoot, entries.launcher.source);

/** The worker's entry file inside its asset, beside its `chunks/` and a package.json saying it is ESM. */
export const WORKER_FILE = 'worker.js';

// Every option `bundleOptions` may hold and the NodejsFunction equivalent below handles. An option
// outside this list would silently make the Lambda bundle differ from dist/launcher.js: refuse it.
const MAPPED = new Set([
  'bundle',
  'platform',
  'target',
  'format',
  'mainFields',
  'minify',
  'sourcemap',
  'legalComments',
  'banner',
  'alias',
]);

/** NodejsFunction bundling equivalent to `lambdaBundleOptions` (scripts/build.ts). */
export function launcherBundling(): nodejs.BundlingOptions {
  const bundleOptions = lambdaBundleOptions;
  const unmapped = Object.keys(bundleOptions).filter((key) => !MAPPED.has(key));
  if (unmapped.length > 0) {
    throw new InternalError(
      `scripts/build.ts bundleOptions has ${unmapped.join(', ')}, which launcherBundling() does not map yet`,
    );
  }
  if (bundleOptions.bundle !== true || bundleOptions.platform !== 'node' || bundleOptions.format !== 'esm') {
    throw new InternalError('launcherBundling() expects bundleOptions to bundle ESM for the node platform');
  }
  if (typeof bundleOptions.target !== 'string') {
    throw new InternalError('launcherBundling() expects one esbuild target string in bundleOptions');
  }
  return {
    target: bundleOptions.target,
    format: nodejs.OutputFormat.ESM,
    mainFields: [...(bundleOptions.mainFields ?? [])],
    minify: bundleOptions.minify === true,
    sourceMap: bundleOptions.sourcemap === true,
    ...(bundleOptions.banner?.js === undefined ? {} : { banner: bundleOptions.banner.js }),
    esbuildArgs: {
      ...(bundleOptions.legalComments === undefined
        ? {}
        : { '--legal-comments': bundleOptions.legalComments }),
      // The Lambda-only swap of the SDK credential chain (see lambdaBundleOptions).
      ...Object.fromEntries(
        Object.entries(bundleOptions.alias ?? {}).map(([from, to]) => [`--alias:${from}`, to]),
      ),
    },
    // dist/launcher.js carries its SDK clients (smaller and faster to load than the runtime's copy).
    externalModules: [],
    // Docker is never needed: esbuild is a dependency of this package.
    forceDockerBundling: false,
  };
}

/**
 * Asset bundling that writes the worker bundle into the asset exactly as `npm run build` writes
 * it into dist/ (`worker.js` and its `chunks/`), plus a package.json that marks it ESM. Local
 * only: the Docker image is a required field that is never used, because local bundling either
 * succeeds or throws.
 */
export function workerBundling(): { image: DockerImage; local: ILocalBundling } {
  return {
    image: DockerImage.fromRegistry('local-bundling-only'),
    local: {
      tryBundle(outputDir: string): boolean {
        buildSync({
          ...entryBuildOptions('worker', outputDir),
          absWorkingDir: packageRoot,
          logLevel: 'error',
        });
        writeFileSync(join(outputDir, 'package.json'), '{"type":"module"}\n');
        return true;
      },
    },
  };
}
