import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryKey } from '../../src/cli/build-source.js';
import { isFinished, type JobRecord } from '../../src/core/job-record.js';
import { runCliInProcess } from '../support/cli.js';
import { createRepo, type FixtureRepo } from '../support/repos.js';

let root: string;
/** The project's own repository: what `app` is registered with. */
let app: FixtureRepo;
/** Another repository's checkout, like the iwomp clone a new user stands in. */
let other: FixtureRepo;
let appHead: string;

const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' });
const cli = (argv: readonly string[], cwd: string, extra: Record<string, string> = {}) =>
  runCliInProcess(argv, { env: { ...env(), IWOMP_STATE_DIR: join(root, 'state'), ...extra }, cwd });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cli-commit-source-'));
  app = createRepo(root, 'app');
  appHead = app.commit('main', {
    'deploy.sh': { content: '#!/bin/sh\necho "deployed $1"\n', executable: true },
  });
  other = createRepo(root, 'other');
  other.commit('main', { 'README.md': 'another project\n' });
  const put = await cli(
    ['projects', 'put', 'app', '--local', '--git-url', `file://${app.bare}`, '--command', './deploy.sh'],
    root,
  );
  expect(put).toMatchObject({ code: 0, stderr: '' });
});

afterAll(async () => {
  // Jobs queued without --wait run on after their test: let them end before their state goes.
  for (let i = 0; i < 300; i++) {
    const jobs = JSON.parse((await cli(['jobs', 'list', '--json'], root)).stdout) as JobRecord[];
    if (jobs.every((job) => isFinished(job.state))) break;
    await sleep(50);
  }
  rmSync(root, { recursive: true, force: true });
});

async function jobOf(stdout: string, cwd: string): Promise<JobRecord> {
  return JSON.parse((await cli(['jobs', 'show', stdout.trim(), '--json'], cwd)).stdout) as JobRecord;
}

describe('which commit a trigger attaches', () => {
  it("standing in another repository's checkout: no commit, says why, and the deploy runs (was: superseded, 84)", async () => {
    // GIVEN the user stands in another repository's checkout, on a branch of the same name
    // WHEN
    const run = await cli(['trigger', 'app', 'main', '--local', '--wait'], other.work);
    // THEN nothing of that checkout is attached, the user is told why, and the head of main deploys
    expect(run.stderr).toContain(
      `no commit attached: the git checkout at ${other.work} is not of app's repository file://${app.bare}; the worker deploys the head of main\n`,
    );
    expect(run.stderr).toContain('deployed main\n');
    expect(run.code).toBe(0);
    expect((await jobOf(run.stdout, other.work)).commit).toBeUndefined();
  });

  it("in a checkout of the project's repository: attaches its HEAD and says so before the job starts", async () => {
    // GIVEN a checkout whose remote spells the registered URL differently (a path, not file://)
    const run = await cli(['trigger', 'app', 'main', '--local', '--wait'], app.work);
    // THEN
    const note = `commit ${appHead} from the git checkout at ${app.work}: its remote is app's repository file://${app.bare}\n`;
    expect(run.stderr.startsWith(note)).toBe(true);
    expect(run.code).toBe(0);
    expect((await jobOf(run.stdout, app.work)).commit).toBe(appHead);
  });

  it('in CI: attaches CI’s commit only when CI builds the project’s repository (local mode compares)', async () => {
    // GIVEN GitLab CI variables for the project's repository, then for another one
    const gitlab = (url: string) => ({
      CI_COMMIT_SHA: appHead,
      CI_COMMIT_BRANCH: 'main',
      CI_PROJECT_URL: url,
    });
    // WHEN / THEN: the project's repository
    const own = await cli(['trigger', 'app', '--local'], root, gitlab(`file://${app.bare}/`));
    expect(own.stderr).toMatch(
      new RegExp(
        `^commit ${appHead} from GitLab CI \\(CI_COMMIT_SHA\\): CI_PROJECT_URL is app's repository `,
      ),
    );
    expect((await jobOf(own.stdout, root)).commit).toBe(appHead);
    // WHEN / THEN: another repository
    const foreign = await cli(['trigger', 'app', '--local'], root, gitlab('https://gitlab.com/acme/other'));
    expect(foreign.stderr).toMatch(
      /^no commit attached: GitLab CI \(CI_COMMIT_SHA\) is not of app's repository file:\/\/.*; the worker deploys the head of main\n/,
    );
    expect((await jobOf(foreign.stdout, root)).commit).toBeUndefined();
  });

  it('a checkout without a remote, or not in a checkout at all: no commit, and says why', async () => {
    const bare = join(root, 'no-remote');
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', bare]);
    execFileSync(
      'git',
      ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '--allow-empty', '-m', 'x'],
      {
        cwd: bare,
      },
    );
    const noRemote = await cli(['trigger', 'app', '--local'], bare);
    expect(noRemote.stderr).toMatch(/^no commit attached: the git checkout at .* has no remote; /);
    const nowhere = await cli(['trigger', 'app', 'main', '--local'], join(root, 'state'));
    expect(nowhere.stderr).toMatch(
      /^no commit attached: not in CI, and not in a git checkout with a commit; /,
    );
  });

  it('--commit and --no-commit decide without a note', async () => {
    const explicit = await cli(['trigger', 'app', 'main', '--local', '--commit', appHead], other.work);
    expect(explicit.stderr).toMatch(/^queued job /);
    const none = await cli(['trigger', 'app', 'main', '--local', '--no-commit'], app.work);
    expect(none.stderr).toMatch(/^queued job /);
  });

  it.each([
    ['https://github.com/Acme/App.git', 'github.com/acme/app'],
    ['git@github.com:acme/app.git', 'github.com/acme/app'],
    ['ssh://git@github.com:22/acme/app/', 'github.com/acme/app'],
    ['https://user@github.com/acme/app', 'github.com/acme/app'],
    ['file:///srv/git/app.git', '/srv/git/app'],
    ['/srv/git/app.git/', '/srv/git/app'],
    ['not a url', undefined],
  ])('repositoryKey(%j) is %j', (url, key) => {
    expect(repositoryKey(url)).toBe(key);
  });
});
