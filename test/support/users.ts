import { execFileSync } from 'node:child_process';

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * An unprivileged local user for tests that switch users (they run as root here, as CodeBuild
 * builds do). Created with useradd when missing; never a login account.
 */
export function ensureUnprivilegedUser(name = 'codebuild-user'): TestUser {
  const id = (flag: string) => Number(execFileSync('id', [flag, name]).toString().trim());
  try {
    return { name, uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name]);
    return { name, uid: id('-u'), gid: id('-g') };
  }
}
