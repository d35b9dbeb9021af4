import { execFileSync } from 'node:child_process';

/** A local user without privileges, as CodeBuild's curated images ship `codebuild-user`. */
export interface UnprivilegedUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The user `name`, created (with its own group and home) when missing. Idempotent, and safe when
 * several test files call it at once: a lost `useradd` race is settled by looking the user up again.
 * Tests run as root on these machines; without root a missing user is an error that says so.
 */
export function ensureUnprivilegedUser(name = 'codebuild-user'): UnprivilegedUser {
  if (!USER_NAME.test(name))
    throw new Error(`ensureUnprivilegedUser: not a user name: ${JSON.stringify(name)}`);
  const existing = lookup(name);
  if (existing) return checked(existing);
  if (process.getuid?.() !== 0) {
    throw new Error(`ensureUnprivilegedUser: user ${name} is missing and only root can create it`);
  }
  let failure: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      execFileSync('useradd', ['--create-home', '--user-group', '--shell', '/bin/bash', name], {
        stdio: 'pipe',
      });
    } catch (error) {
      // Another test file may have created it (or holds the passwd lock): look again.
      failure = error;
    }
    const created = lookup(name);
    if (created) return checked(created);
    execFileSync('sleep', ['0.2']);
  }
  throw new Error(`ensureUnprivilegedUser: could not create ${name}: ${String(failure)}`);
}

function lookup(name: string): UnprivilegedUser | undefined {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
  const [user, , uid, gid, , home] = line.split(':');
  if (user !== name || uid === undefined || gid === undefined || home === undefined) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home };
}

function checked(user: UnprivilegedUser): UnprivilegedUser {
  // A user that is root in disguise would make every "cannot read" test pass for the wrong reason.
  if (user.uid === 0 || user.gid === 0)
    throw new Error(`ensureUnprivilegedUser: ${user.name} has uid or gid 0`);
  return user;
}
