import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git } from './git-server.js';

export interface FixtureFile {
  readonly content: string;
  readonly executable?: boolean;
}

export interface FixtureRepo {
  /** Path of the bare repository (what servers serve). */
  readonly bare: string;
  /** Path of the working repository the commits are made in. */
  readonly work: string;
  /** Commits files on a branch (created from the current one if new) and pushes it. Returns the commit. */
  commit(branch: string, files: Record<string, FixtureFile | string>, message?: string): string;
}

/** A real git repository with a bare twin under `root/<name>.git`, for servers to serve. */
export function createRepo(root: string, name: string): FixtureRepo {
  const bare = join(root, `${name}.git`);
  const work = join(root, `${name}-work`);
  mkdirSync(work, { recursive: true });
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(work, 'init', '--quiet', '--initial-branch=main');
  git(work, 'remote', 'add', 'origin', bare);
  let first = true;
  return {
    bare,
    work,
    commit(branch, files, message = 'change') {
      if (first && branch !== 'main') git(work, 'checkout', '--quiet', '-b', branch);
      else if (!first) {
        const exists = git(work, 'branch', '--list', branch) !== '';
        git(work, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch]));
      }
      first = false;
      for (const [path, file] of Object.entries(files)) {
        const spec = typeof file === 'string' ? { content: file } : file;
        const target = join(work, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, spec.content);
        if (spec.executable) chmodSync(target, 0o755);
      }
      git(work, 'add', '--all');
      git(work, 'commit', '--quiet', '--allow-empty', '-m', message);
      git(work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return git(work, 'rev-parse', 'HEAD');
    },
  };
}
