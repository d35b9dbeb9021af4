import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startGitServer } from './test/support/git-server.js';

const server = await startGitServer('/dev/shm/p');
const url = server.url('big.git');
const t = (label: string, args: string[]) => {
  const s = performance.now();
  execFileSync('git', args, { stdio: 'ignore' });
  const d = performance.now() - s;
  return d;
};
const rows: Record<string, number[]> = {};
const add = (k: string, v: number) => {
  (rows[k] ??= []).push(v);
};
for (let r = 0; r < 5; r++) {
  const c = `/dev/shm/p/c${r}`,
    e = `/dev/shm/p/e${r}`;
  add('clone', t('clone', ['clone', '-q', '--depth', '1', '--single-branch', '--branch', 'main', url, c]));
  const s = performance.now();
  rmSync(c, { recursive: true });
  add('rm', performance.now() - s);
  add('init', t('', ['init', '-q', '--template=', e]));
  add('symref', t('', ['-C', e, 'symbolic-ref', 'HEAD', 'refs/heads/main']));
  add('remote', t('', ['-C', e, 'remote', 'add', 'origin', url]));
  add(
    'fetch',
    t('', [
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
  add('reset', t('', ['-C', e, 'reset', '-q', '--hard', 'HEAD']));
  add('checkout-alt', 0);
  rmSync(e, { recursive: true });
}
for (const [k, v] of Object.entries(rows)) console.log(k, v.map((x) => x.toFixed(0)).join(' '));
await server.stop();
