import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startGitServer } from '/work/main/test/support/git-server.js';
import { createRepo } from '/work/main/test/support/repos.js';

const root = mkdtempSync('/dev/shm/probe-');
const files: Record<string, string> = {};
for (let i = 0; i < 5000; i++) files[`src/d${i % 50}/f${i}.txt`] = randomBytes(5000).toString('hex');
createRepo(root, 'big').commit('main', files);
const server = await startGitServer(root);
const url = server.url('big.git');
const t = (label: string, f: () => void) => {
  const s = performance.now();
  f();
  console.log(label, (performance.now() - s).toFixed(1));
};
for (let r = 0; r < 3; r++) {
  const d = join(root, `c${r}`);
  t('clone', () =>
    execFileSync('git', ['clone', '-q', '--depth', '1', '--single-branch', '--branch', 'main', url, d]),
  );
  t('rm', () => rmSync(d, { recursive: true }));
  const e = join(root, `e${r}`);
  t('init', () => execFileSync('git', ['init', '-q', '--template=', e]));
  t('symref', () => execFileSync('git', ['-C', e, 'symbolic-ref', 'HEAD', 'refs/heads/main']));
  t('remote', () => execFileSync('git', ['-C', e, 'remote', 'add', 'origin', url]));
  t('fetch', () =>
    execFileSync('git', [
      '-C',
      e,
      'fetch',
      '-q',
      '--depth=1',
      '--no-tags',
      '--update-head-ok',
      'origin',
      '+refs/heads/main:refs/heads/main',
      '+refs/heads/main:refs/remotes/origin/main',
    ]),
  );
  t('revparse', () => execFileSync('git', ['-C', e, 'rev-parse', 'HEAD']));
  t('reset', () => execFileSync('git', ['-C', e, 'reset', '-q', '--hard', 'HEAD']));
  t('rm2', () => rmSync(e, { recursive: true }));
}
await server.stop();
rmSync(root, { recursive: true });
