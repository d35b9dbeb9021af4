import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { createGitShim, type GitShim } from '../support/git-shim.js';
import { createRepo } from '../support/repos.js';
import { SSHD, type SshServer, startSshServer } from '../support/ssh-server.js';
import { runWorkerProcess } from '../support/worker-process.js';

// scripts/ensure-tools.sh installs openssh-server where it can (root with apt); elsewhere this
// suite is skipped, and says so.
const haveSshd = existsSync(SSHD);

describe.skipIf(!haveSshd)('worker over ssh (real sshd on loopback, pinned host key)', () => {
  let root: string;
  let registry: string;
  let out: string;
  let server: SshServer;
  let shim: GitShim;
  let bare: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'iwomp-ssh-'));
    registry = join(root, 'registry');
    out = join(root, 'out');
    mkdirSync(registry);
    mkdirSync(out);
    const repo = createRepo(root, 'app');
    repo.commit('main', {
      'deploy.sh': {
        content: '#!/bin/sh\necho "deployed $1 over ssh"\nenv > "$TEST_OUT_DIR/env"\n',
        executable: true,
      },
    });
    bare = repo.bare;
    server = await startSshServer(join(root, 'ssh'));
    shim = createGitShim(root);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const run = (project: string, extra: Record<string, string> = {}) =>
    runWorkerProcess({
      IWOMP_REGISTRY: `file:${registry}`,
      TEST_OUT_DIR: out,
      PATH: `${shim.dir}:${process.env.PATH}`,
      PROJECTNAME: project,
      GITBRANCH: 'main',
      ...extra,
    });

  it('clones with the key, checks the pinned host key, and leaves the key nowhere', async () => {
    writeFileSync(
      join(registry, 'app.json'),
      JSON.stringify({
        gitUrl: server.url(bare),
        sshPrivateKey: server.clientKey,
        sshKnownHosts: server.knownHosts,
        command: './deploy.sh',
      }),
    );
    shim.reset();
    const work = join(root, 'work');
    mkdirSync(work);
    const result = await run('app', { IWOMP_WORKDIR: work, IWOMP_KEEP_WORKDIR: '1' });
    expect(result.stderr).not.toMatch(/^iwomp: /m);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deployed main over ssh');

    const keyLine = server.clientKey.split('\n')[1] ?? '';
    expect(keyLine.length).toBeGreaterThan(20);
    expect(shim.calls().join('\n')).not.toContain(keyLine);
    expect(readFileSync(join(out, 'env'), 'utf8')).not.toContain(keyLine);
    expect(readFileSync(join(out, 'env'), 'utf8')).not.toMatch(/^GIT_SSH_COMMAND=/m);
    const [job] = readdirSync(work);
    expect(existsSync(join(work, job ?? '', 'auth'))).toBe(false);
    expect(readFileSync(join(work, job ?? '', 'src/.git/config'), 'utf8')).not.toContain(keyLine);
    expect(result.stdout + result.stderr).not.toContain(keyLine);
  });

  it('fetches a sparse deployDir lazily with the key, which is deleted only after the checkout', async () => {
    // GIVEN a monorepo served over ssh by a git that serves partial clones
    const mono = createRepo(root, 'mono');
    mono.commit('main', {
      'infra/deploy.sh': { content: '#!/bin/sh\necho "deployed $1 from infra"\n', executable: true },
      'app/big.txt': 'application\n'.repeat(1000),
    });
    execFileSync('git', ['-C', mono.bare, 'config', 'uploadpack.allowFilter', 'true']);
    execFileSync('git', ['-C', mono.bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true']);
    writeFileSync(
      join(registry, 'mono.json'),
      JSON.stringify({
        gitUrl: server.url(mono.bare),
        sshPrivateKey: server.clientKey,
        sshKnownHosts: server.knownHosts,
        deployDir: 'infra',
        command: './deploy.sh',
      }),
    );
    const work = join(root, 'work-mono');
    mkdirSync(work);
    // WHEN the worker deploys infra/
    const result = await run('mono', { IWOMP_WORKDIR: work, IWOMP_KEEP_WORKDIR: '1' });
    // THEN the checkout's own fetch of infra's blobs got through with the key
    expect(result.stderr).not.toMatch(/^iwomp: /m);
    expect(result.stdout).toContain('deployed main from infra');
    const [job] = readdirSync(work);
    const clone = join(work, job ?? '', 'src');
    // AND app/'s blob was never fetched, and the key files are gone
    const missing = execFileSync('git', ['rev-list', '--objects', '--missing=print', 'HEAD'], {
      cwd: clone,
      encoding: 'utf8',
    });
    expect(missing.split('\n').filter((line) => line.startsWith('?'))).toHaveLength(1);
    expect(existsSync(join(work, job ?? '', 'auth'))).toBe(false);
  });

  it('refuses a host that sshKnownHosts does not list, rather than trusting it on first use', async () => {
    // GIVEN known hosts that pin the server's real key, but for another host only
    const hostKey = server.knownHosts.split(' ').slice(1).join(' ');
    writeFileSync(
      join(registry, 'unlisted.json'),
      JSON.stringify({
        gitUrl: server.url(bare),
        sshPrivateKey: server.clientKey,
        sshKnownHosts: `[git.example.com]:${server.port} ${hostKey}`,
        command: './deploy.sh',
      }),
    );
    // WHEN the worker fetches from the server
    const result = await run('unlisted');
    // THEN the clone fails: an unknown host is never accepted
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(/Host key verification failed/);
    expect(result.stdout).not.toContain('deployed');
  });

  it('refuses a host whose key does not match the pinned one', async () => {
    const otherKey = join(root, 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const wrongPin = `[127.0.0.1]:${server.port} ${readFileSync(`${otherKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}`;
    writeFileSync(
      join(registry, 'mitm.json'),
      JSON.stringify({
        gitUrl: server.url(bare),
        sshPrivateKey: server.clientKey,
        sshKnownHosts: wrongPin,
        command: './deploy.sh',
      }),
    );
    const result = await run('mitm');
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(result.stdout).not.toContain('deployed');
  });
});
