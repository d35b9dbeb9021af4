import { join, resolve } from 'node:path';

/** Where local mode keeps everything: `.iwomp/` in the working directory unless `IWOMP_STATE_DIR` says otherwise. */
export const DEFAULT_STATE_DIR = '.iwomp';

/** The layout of a local state directory. Nothing of local mode lives outside it. */
export interface LocalPaths {
  readonly root: string;
  /** The folder registry (`IWOMP_REGISTRY=file:<registry>`): `<project>.json`, `_default.json`. */
  readonly registry: string;
  /** `<id>.json` (the record) and `<id>.log` (the worker's output) per job. */
  readonly jobs: string;
  /** `<project>/<ticket>`: the per-project FIFO (see project-queue.ts). */
  readonly queue: string;
  /** Fresh work directories, one per running job (`IWOMP_WORKDIR`); empty when nothing runs. */
  readonly work: string;
  /** Idempotency tokens already used: `<sha256>` → job id. */
  readonly tokens: string;
}

export function localPaths(stateDir: string): LocalPaths {
  const root = resolve(stateDir);
  return {
    root,
    registry: join(root, 'registry'),
    jobs: join(root, 'jobs'),
    queue: join(root, 'queue'),
    work: join(root, 'work'),
    tokens: join(root, 'tokens'),
  };
}

/** The state directory an entry point should use: `IWOMP_STATE_DIR`, else `.iwomp` under `cwd`. */
export function resolveStateDir(env: NodeJS.ProcessEnv, cwd: string): string {
  const fromEnv = env.IWOMP_STATE_DIR;
  return resolve(cwd, fromEnv === undefined || fromEnv === '' ? DEFAULT_STATE_DIR : fromEnv);
}
