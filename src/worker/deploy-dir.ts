import { realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ConfigError } from '../core/errors.js';

/**
 * Resolves `deployDir` inside a fresh clone, following symlinks, and refuses any path that ends
 * up outside the clone: a branch controls its own symlinks, and `deploy -> /` must not work.
 */
export async function resolveDeployDir(cloneDir: string, deployDir: string): Promise<string> {
  const root = await realpath(cloneDir);
  let target: string;
  try {
    target = await realpath(join(root, deployDir));
  } catch {
    throw new ConfigError(`deployDir '${deployDir}' does not exist in the repository`);
  }
  const rel = relative(root, target);
  if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) {
    throw new ConfigError(`deployDir '${deployDir}' leads outside the repository (through a symlink)`);
  }
  if (!(await stat(target)).isDirectory())
    throw new ConfigError(`deployDir '${deployDir}' is not a directory`);
  return target;
}
