import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GitShim {
  /** Prepend to PATH so the worker runs the shim. */
  readonly dir: string;
  /** Every git argv run since the last reset, one line each. */
  calls(): string[];
  /** Every git argv run since the last reset, argument by argument (exact, spaces included). */
  argvs(): string[][];
  reset(): void;
}

// Arguments are separated by ASCII unit separators and calls by record separators: neither is
// valid in a ref name or a URL the worker accepts, so a recorded argv splits back exactly.
const UNIT = '\x1f';
const RECORD = '\x1e';

/** A `git` on PATH that records each argv it gets, then runs the real git: proof of what reached git. */
export function createGitShim(root: string): GitShim {
  const dir = join(root, 'git-shim');
  const log = join(root, 'git-argv.log');
  const exact = join(root, 'git-argv.exact');
  mkdirSync(dir, { recursive: true });
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(dir, 'git'),
    [
      '#!/bin/sh',
      `for a in "$@"; do printf '%s ' "$a" >> '${log}'; printf '%s\\037' "$a" >> '${exact}'; done`,
      `echo >> '${log}'`,
      `printf '\\036' >> '${exact}'`,
      `exec '${realGit}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return {
    dir,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    argvs: () =>
      existsSync(exact)
        ? readFileSync(exact, 'utf8')
            .split(RECORD)
            .filter(Boolean)
            .map((call) => call.split(UNIT).slice(0, -1))
        : [],
    reset: () => {
      rmSync(log, { force: true });
      rmSync(exact, { force: true });
    },
  };
}
