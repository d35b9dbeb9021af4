import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { runCliInProcess, runCliProcess } from '../support/cli.js';
import { createRepo } from '../support/repos.js';

const TOKEN = 'local-tok-2b7e9c41d05a';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cli-local-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Every file of a folder registry with its content and mode: what "unchanged" is checked against. */
function snapshot(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .sort()
    .map(
      (n) =>
        `${n} ${(statSync(join(dir, n)).mode & 0o777).toString(8)} ${readFileSync(join(dir, n), 'utf8')}`,
    );
}

describe('projects with the folder registry', () => {
  it('--local keeps projects in <state-dir>/registry, secrets in 0600 files, and show redacts them', async () => {
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const env = { IWOMP_STATE_DIR: 'state', DEPLOY_TOKEN: TOKEN };
    const registry = join(cwd, 'state', 'registry');

    const put = await runCliInProcess(
      [
        '--local',
        'projects',
        'put',
        'demo',
        '--git-url',
        'file:///srv/demo.git',
        '--command',
        './deploy.sh',
        '--auth-token-env',
        'DEPLOY_TOKEN',
      ],
      { env, cwd },
    );
    expect(put).toMatchObject({ code: 0, stderr: '' });
    expect(put.stdout).toBe(`stored demo at ${join(registry, 'demo.json')} (mode 0600)\n`);
    expect(statSync(join(registry, 'demo.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(registry, 'demo.json'), 'utf8')).authToken).toBe(TOKEN);

    // IWOMP_BACKEND=local is the same as --local.
    const show = await runCliInProcess(['projects', 'show', 'demo'], {
      env: { ...env, IWOMP_BACKEND: 'local' },
      cwd,
    });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`${join(registry, 'demo.json')} (mode 0600)\n`);
    expect(show.stdout).toContain('"authToken": "***"');
    expect(show.stdout).not.toContain(TOKEN);

    const list = await runCliInProcess(['--local', 'projects', 'list', '--json'], { env, cwd });
    expect(JSON.parse(list.stdout)).toEqual([{ name: 'demo', gitUrl: 'file:///srv/demo.git' }]);
  });

  it('IWOMP_REGISTRY=file:<dir> selects the folder registry without --local', async () => {
    const dir = join(root, 'by-env');
    const env = { IWOMP_REGISTRY: `file:${dir}` };
    const put = await runCliInProcess(
      [
        'projects',
        'put',
        'web',
        '--git-url',
        'https://github.com/acme/web.git',
        '--command',
        'make',
        '--branch',
        'main',
      ],
      { env, cwd: root },
    );
    expect(put.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'web.json'), 'utf8'))).toEqual({
      gitUrl: 'https://github.com/acme/web.git',
      command: 'make',
      branches: ['main'],
    });
    expect(statSync(join(dir, 'web.json')).mode & 0o777).toBe(0o644);
    const rm = await runCliInProcess(['projects', 'rm', 'web'], { env, cwd: root });
    expect(rm.code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('lists a hand-edited broken document as invalid instead of failing, and never prints URL credentials', async () => {
    const dir = join(root, 'hand-edited');
    const env = { IWOMP_REGISTRY: `file:${dir}` };
    await runCliInProcess(
      ['projects', 'put', 'ok', '--git-url', 'https://a.example/ok.git', '--command', 'x'],
      { env, cwd: root },
    );
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'broken.json'), '{"gitUrl": 1}');
    writeFileSync(
      join(dir, 'leaky.json'),
      JSON.stringify({ gitUrl: `https://x:${TOKEN}@a.example/l.git`, command: 'x' }),
    );
    const list = await runCliInProcess(['projects', 'list'], { env, cwd: root });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^broken +\(invalid: broken: gitUrl: /m);
    expect(list.stdout).toMatch(/^leaky +https:\/\/a\.example\/l\.git/m);
    expect(list.stdout).not.toContain(TOKEN);
  });

  it('never prints userinfo of a hand-edited gitUrl: show, show --json, list, list --json', async () => {
    // GIVEN documents written by hand, with credentials in their URLs in several spellings
    const dir = join(root, 'userinfo');
    const env = { IWOMP_REGISTRY: `file:${dir}` };
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir);
    const urls = {
      plain: `https://x-access-token:${TOKEN}@a.example/p.git`,
      backslash: `http://${TOKEN}\\@a.example/b.git`,
      spaced: `https://x:${TOKEN}@a.example/s p.git`,
    };
    for (const [name, gitUrl] of Object.entries(urls))
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ gitUrl, command: 'x' }));
    for (const name of Object.keys(urls)) {
      // WHEN each is shown, as text and as JSON
      const show = await runCliInProcess(['projects', 'show', name], { env, cwd: root });
      const showJson = await runCliInProcess(['--json', 'projects', 'show', name], { env, cwd: root });
      // THEN the host and path are there, the token is not
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('a.example/');
      expect(show.stdout).not.toContain(TOKEN);
      expect(showJson.stdout).not.toContain(TOKEN);
      expect(JSON.parse(showJson.stdout).document.gitUrl).toMatch(/^https?:\/\/a\.example\//);
    }
    // WHEN listed / THEN no row holds the token either
    const list = await runCliInProcess(['projects', 'list'], { env, cwd: root });
    const listJson = await runCliInProcess(['--json', 'projects', 'list'], { env, cwd: root });
    expect(list.stdout).not.toContain(TOKEN);
    expect(listJson.stdout).not.toContain(TOKEN);
    expect(list.stdout).toMatch(/^plain +https:\/\/a\.example\/p\.git/m);
  });

  it("put says when a project will not get _default's credentials (another host)", async () => {
    // GIVEN a _default whose token is bound to a.example by its gitUrl
    const dir = join(root, 'bound');
    const env = { IWOMP_REGISTRY: `file:${dir}` };
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(
      join(dir, '_default.json'),
      JSON.stringify({ gitUrl: 'https://a.example/base.git', authToken: TOKEN }),
    );
    // WHEN a project on a.example and one on b.example are put
    const same = await runCliInProcess(
      ['projects', 'put', 'same', '--git-url', 'https://a.example/s.git', '--command', 'x'],
      { env, cwd: root },
    );
    const other = await runCliInProcess(
      ['projects', 'put', 'other', '--git-url', 'https://b.example/o.git', '--command', 'x'],
      { env, cwd: root },
    );
    // THEN both are stored, and only the second gets a one-line note
    expect(same).toMatchObject({ code: 0, stderr: '' });
    expect(other.code).toBe(0);
    expect(other.stderr).toBe(
      "iwomp: note: project 'other': _default's credentials are not sent to host b.example: they are bound to a.example\n",
    );
  });

  it('hostile input leaves the folder untouched', async () => {
    const dir = join(root, 'hostile');
    const env = { IWOMP_REGISTRY: `file:${dir}` };
    await runCliInProcess(
      ['projects', 'put', 'keep', '--git-url', 'https://a.example/k.git', '--command', 'x'],
      { env, cwd: root },
    );
    const before = snapshot(dir);
    for (const argv of [
      ['../escape', '--git-url', 'https://a.example/e.git', '--command', 'x'],
      ['_default', '--git-url', 'https://a.example/e.git', '--command', 'x'],
      ['keep', '--git-url', `https://${TOKEN}@a.example/e.git`, '--command', 'x'],
      ['keep', '--git-url', 'https://a.example/e.git', '--command', 'x', '--deploy-dir', '/etc'],
    ]) {
      const run = await runCliInProcess(['projects', 'put', ...argv], { env, cwd: root });
      expect(run.code).toBe(CliExitCode.invalidInput);
      expect(snapshot(dir)).toEqual(before);
    }
    expect(readdirSync(root)).not.toContain('escape.json');
  });
});

describe('iwomp worker', () => {
  it('is the worker program: a project registered with --local deploys in local mode, with the worker exit codes', async () => {
    const work = mkdtempSync(join(root, 'worker-'));
    const repo = createRepo(work, 'app');
    repo.commit('main', {
      'deploy.sh': { content: '#!/bin/sh\necho "deployed $1 from $(basename "$PWD")"\n', executable: true },
    });
    const registry = join(work, 'registry');
    const env = { IWOMP_REGISTRY: `file:${registry}` };
    const putArgs = [
      'projects',
      'put',
      'app',
      '--git-url',
      `file://${repo.bare}`,
      '--command',
      './deploy.sh',
    ];
    // A folder registry alone may hold a config bound for AWS: a local path is refused there, as
    // the worker refuses it without IWOMP_LOCAL=1.
    const refused = await runCliProcess(putArgs, { env, cwd: work });
    expect(refused.code).toBe(CliExitCode.invalidInput);
    expect(refused.stderr).toMatch(
      /^iwomp: project 'app': gitUrl .* is a local path: allowed only in local mode\n$/,
    );
    const put = await runCliProcess(['--local', ...putArgs, '--branch', 'main'], { env, cwd: work });
    expect(put.code).toBe(0);

    const awsLike = await runCliProcess(['worker'], {
      env: { ...env, PROJECTNAME: 'app', GITBRANCH: 'main' },
      cwd: work,
    });
    expect(awsLike.code).toBe(ExitCode.registryOrConfig);
    expect(awsLike.stderr).toMatch(/is a local path: allowed only in local mode/);

    const ok = await runCliProcess(['worker'], {
      env: { ...env, PROJECTNAME: 'app', GITBRANCH: 'main', IWOMP_LOCAL: '1' },
      cwd: work,
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('deployed main from');

    const missing = await runCliProcess(['worker'], { env, cwd: work });
    expect(missing.code).toBe(ExitCode.badEnvironment);
    expect(missing.stderr).toMatch(/PROJECTNAME/);
  });
});
