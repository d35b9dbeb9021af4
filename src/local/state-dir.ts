import { chmod, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalStateError } from './errors.js';

/** Where local mode keeps everything: `.iwomp/` in the working directory unless `IWOMP_STATE_DIR` says otherwise. */
export const DEFAULT_STATE_DIR = '.iwomp';

/** The layout of a local state directory. Nothing of local mode lives outside it. */
export interface LocalPaths {
  readonly root: string;
  /** The folder registry (`IWOMP_REGISTRY=file:<registry>`): `<project>.json`, `_default.json`. */
  readonly registry: string;
  /** `<id>.json` (the record) and `<id>.log` (the worker's output) per job. */
  readonly jobs: string;
  /** `<project>/<ticket>` and `<project>/<id>.end`: the per-project lanes (see project-queue.ts). */
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

/**
 * Job records, logs, queue entries, idempotency tokens and clones are the user's alone: they can
 * hold a failing command's output, branch names and commits of private repositories.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes `jobs/`, `queue/`, `tokens/` and `work/` (and the state directory, when new) 0700, and
 * tightens them when an older version made them 0755: files written there before stay behind a
 * directory no one else can enter.
 */
export async function preparePrivateDirs(paths: LocalPaths): Promise<void> {
  for (const dir of [paths.jobs, paths.queue, paths.tokens, paths.work]) {
    try {
      await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      if (((await stat(dir)).mode & 0o777) !== PRIVATE_DIR_MODE) await chmod(dir, PRIVATE_DIR_MODE);
    } catch (error) {
      throw new LocalStateError(`cannot make ${dir} private (mode 700): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** The state directory an entry point should use: `IWOMP_STATE_DIR`, else `.iwomp` under `cwd`. */
export function resolveStateDir(env: NodeJS.ProcessEnv, cwd: string): string {
  const fromEnv = env.IWOMP_STATE_DIR;
  return resolve(cwd, fromEnv === undefined || fromEnv === '' ? DEFAULT_STATE_DIR : fromEnv);
}
