import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GitShim {
  /** Prepend to PATH so the worker runs the shim. */
  readonly dir: string;
  /** Every git argv run since the last reset, one line each. */
  calls(): string[];
  reset(): void;
}

/** A `git` on PATH that records each argv it gets, then runs the real git: proof of what reached git. */
export function createGitShim(root: string): GitShim {
  const dir = join(root, 'git-shim');
  const log = join(root, 'git-argv.log');
  mkdirSync(dir, { recursive: true });
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(dir, 'git'),
    `#!/bin/sh\nfor a in "$@"; do printf '%s ' "$a" >> '${log}'; done\necho >> '${log}'\nexec '${realGit}' "$@"\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    reset: () => rmSync(log, { force: true }),
  };
}
