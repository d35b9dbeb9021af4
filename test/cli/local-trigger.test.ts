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
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import type { LocalJobRecord as JobRecord } from '../../src/local/job-record.js';
import { type CliRun, runCliInProcess, runCliProcess } from '../support/cli.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo, type FixtureRepo } from '../support/repos.js';

const TOKEN = 'tok-cli-local-5e21c7d9';

// Deploy scripts record what they observe in $OUT, so tests assert on facts, not timing.
const SCRIPTS = {
  'deploy.sh': `#!/bin/sh
echo "deploy output: branch $1"
echo "$1" >> "$OUT/deploys.txt"
exit "\${DEPLOY_EXIT:-0}"
`,
  'fail.sh': `#!/bin/sh
echo "about to fail"
exit 7
`,
  'fifo.sh': `#!/bin/sh
echo "start $1" >> "$OUT/fifo.txt"
sleep 0.2
echo "end $1" >> "$OUT/fifo.txt"
`,
  // Waits until the test opens the gate (bounded: never hangs).
  'gate.sh': `#!/bin/sh
echo "waiting for the gate"
i=0
while [ ! -f "$OUT/gate" ]; do
  i=$((i+1)); if [ $i -gt 400 ]; then echo "gate never opened"; exit 9; fi
  sleep 0.05
done
echo "gate open"
`,
};

let root: string;
let repo: FixtureRepo;
let server: GitServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cli-local-trigger-'));
  repo = createRepo(root, 'app');
  repo.commit(
    'main',
    Object.fromEntries(
      Object.entries(SCRIPTS).map(([name, content]) => [name, { content, executable: true }]),
    ),
  );
  for (const branch of ['b1', 'b2', 'feature']) repo.commit(branch, { [`${branch}.txt`]: branch });
  server = await startGitServer(root, { kind: 'token', token: TOKEN });
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Case {
  /** The working directory: the state directory is `.iwomp` in it. */
  cwd: string;
  stateDir: string;
  out: string;
  env: Record<string, string>;
  cli(argv: readonly string[], extraEnv?: Record<string, string>): Promise<CliRun>;
  /** `projects put <name> --local` with the repository's file:// URL and these flags. */
  put(name: string, ...flags: string[]): Promise<void>;
  jobFiles(): string[];
}

let counter = 0;
function newCase(): Case {
  counter += 1;
  const cwd = join(root, `case-${counter}`);
  const out = join(cwd, 'out');
  mkdirSync(out, { recursive: true });
  // PATH and HOME: the runner, git and the deploy scripts need them, as they do in a shell.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', OUT: out };
  const cli = (argv: readonly string[], extraEnv: Record<string, string> = {}) =>
    runCliInProcess(argv, { env: { ...env, ...extraEnv }, cwd });
  const stateDir = join(cwd, '.iwomp');
  return {
    cwd,
    stateDir,
    out,
    env,
    cli,
    async put(name, ...flags) {
      const run = await cli([
        'projects',
        'put',
        name,
        '--local',
        '--git-url',
        `file://${repo.bare}`,
        ...flags,
      ]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
    },
    jobFiles: () => {
      const dir = join(stateDir, 'jobs');
      return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
    },
  };
}

const JOB_ID = /^(app|failing|fifo|gated)-\d{8}T\d{6}-[0-9a-f]{6}$/;

function jobIdOf(run: CliRun): string {
  const id = run.stdout.trim();
  expect(id).toMatch(JOB_ID);
  return id;
}

describe('iwomp trigger --local (launcher logic, local job, dist/worker.js)', () => {
  it('deploys a project registered with the CLI: --wait streams the log, shows progress, exits 0', async () => {
    // GIVEN app registered with the CLI, deploying main with ./deploy.sh
    const c = newCase();
    await c.put('app', '--command', './deploy.sh', '--branch', 'main');

    // WHEN it is triggered locally with --wait
    const run = await c.cli(['trigger', 'app', 'main', '--local', '--wait', '--no-commit']);

    // THEN it exits 0
    expect(run.code).toBe(0);
    // stdout is the result only: the job id, for scripts.
    const id = jobIdOf(run);
    // The log and the progress go to stderr: the deploy command's own output, the phases, the end.
    expect(run.stderr).toContain(`» job ${id}\n`);
    expect(run.stderr).toContain('deploy output: branch main\n');
    expect(run.stderr).toMatch(/^» app main · queued · \d+\.\ds$/m);
    expect(run.stderr).toMatch(/^» app main · succeeded \(exit 0\) · \d+\.\ds\n$/m);
    expect(run.stderr.indexOf('deploy output')).toBeLessThan(run.stderr.indexOf('succeeded (exit 0)'));
    expect(readFileSync(join(c.out, 'deploys.txt'), 'utf8')).toBe('main\n');

    // AND jobs list / show / logs all see that job.
    const list = await c.cli(['jobs', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID +PROJECT +BRANCH +STATE +EXIT +CREATED +DURATION$/m);
    expect(list.stdout).toMatch(new RegExp(`^${id} +app +main +succeeded +0 +\\d{4}-\\d\\d-\\d\\d `, 'm'));
    const listJson = await c.cli(['jobs', 'list', '--json']);
    expect((JSON.parse(listJson.stdout) as JobRecord[]).map((j) => [j.id, j.state])).toEqual([
      [id, 'succeeded'],
    ]);

    const show = await c.cli(['jobs', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('state:      succeeded (exit 0)\n');
    expect(show.stdout).toContain(`log:        ${join(c.stateDir, 'jobs', `${id}.log`)}\n`);
    const showJson = JSON.parse((await c.cli(['--json', 'jobs', 'show', id])).stdout);
    expect(showJson).toMatchObject({ id, project: 'app', branch: 'main', state: 'succeeded', exitCode: 0 });

    const logs = await c.cli(['jobs', 'logs', id]);
    expect(logs).toMatchObject({ code: 0, stderr: '' });
    expect(logs.stdout).toContain('deploy output: branch main\n');
    expect(logs.stdout).toBe(readFileSync(join(c.stateDir, 'jobs', `${id}.log`), 'utf8'));
  });

  it('shows the running phase with its elapsed time while the deploy command runs', async () => {
    // GIVEN a project whose command waits for a gate
    const c = newCase();
    await c.put('gated', '--command', './gate.sh');
    // WHEN it is triggered with --wait, and the gate opens once the running phase shows
    let stderr = '';
    const running = runCli(['trigger', 'gated', 'main', '--local', '--wait', '--no-commit'], {
      env: c.env,
      cwd: c.cwd,
      stdout: { write: () => true },
      stderr: {
        write: (s: string) => {
          stderr += s;
          return true;
        },
      },
    });
    // The command waits for the gate: the follower must report its phase before it is opened.
    for (let i = 0; i < 400 && !stderr.includes('running: command'); i++) await sleep(25);
    writeFileSync(join(c.out, 'gate'), '');
    // THEN it exits 0, having shown the running phase before the command ended
    expect(await running).toBe(0);
    expect(stderr).toMatch(/^» gated main · running: command · \d+\.\ds$/m);
    expect(stderr.indexOf('running: command')).toBeLessThan(stderr.indexOf('gate open'));
  });

  it("exits 7 (failed) when the deploy command fails, shows the command's status, and records it", async () => {
    // GIVEN a project whose command exits 7
    const c = newCase();
    await c.put('failing', '--command', './fail.sh');
    // WHEN it is triggered with --wait
    const run = await c.cli(['trigger', 'failing', 'main', '--local', '--wait', '--no-commit']);
    // THEN the CLI exits 7 (failed), shows the output and the failure, and the record says so
    expect(run.code).toBe(CliExitCode.failed);
    const id = jobIdOf(run);
    expect(run.stderr).toContain('about to fail\n');
    expect(run.stderr).toMatch(/^» failing main · failed \(exit 7\) · /m);
    const show = JSON.parse((await c.cli(['jobs', 'show', id, '--json'])).stdout);
    expect(show).toMatchObject({ state: 'failed', exitCode: 7 });
  });

  it("exits 7 (failed) when the job fails before the command, showing the worker's own code (clone: 83)", async () => {
    // GIVEN app registered for any branch
    const c = newCase();
    await c.put('app', '--command', './deploy.sh');
    // WHEN it is triggered with --wait for a branch that does not exist
    // A branch that does not exist: the launcher accepts it (any branch is allowed), the clone fails.
    const run = await c.cli(['trigger', 'app', 'gone', '--local', '--wait', '--no-commit']);
    // THEN it exits 7 (failed), the final line shows the worker's 83, and the command never ran
    expect(run.code).toBe(CliExitCode.failed);
    expect(run.stderr).toMatch(/^» app gone · failed \(exit 83\)/m);
    expect(existsSync(join(c.out, 'deploys.txt'))).toBe(false);
  });

  it("a deploy command exiting 6 makes --wait exit 7 (failed), never 6 (rejected); the worker's 6 is in the final line and the JSON", async () => {
    // GIVEN a project whose command exits with DEPLOY_EXIT (it inherits the CLI's environment)
    const c = newCase();
    await c.put('app', '--command', './deploy.sh');
    // WHEN its command exits 6
    const run = await c.cli(['trigger', 'app', 'main', '--local', '--wait', '--no-commit', '--json'], {
      DEPLOY_EXIT: '6',
    });
    // THEN the CLI says failed, as it would in AWS, and shows the command's own status
    expect(run.code).toBe(CliExitCode.failed);
    expect(run.stderr).toMatch(/^» app main · failed \(exit 6\) · \d+\.\ds$/m);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'failed', workerExitCode: 6 });
  });

  it('--timeout stops waiting with exit 9 and says the job goes on; the job then finishes', async () => {
    // GIVEN a project whose command waits for a gate
    const c = newCase();
    await c.put('gated', '--command', './gate.sh');
    // WHEN it is triggered with --wait --timeout 1s, and the gate stays shut
    const run = await c.cli([
      'trigger',
      'gated',
      'main',
      '--local',
      '--wait',
      '--timeout',
      '1s',
      '--no-commit',
    ]);
    // THEN it exits 9, saying how to follow the job
    expect(run.code).toBe(CliExitCode.timedOut);
    const id = jobIdOf(run);
    expect(run.stderr).toMatch(
      new RegExp(
        `\\niwomp: stopped waiting for job ${id} after 1s \\(--timeout\\); it goes on\\. Follow it: iwomp jobs logs ${id} --follow; stop it: iwomp jobs cancel ${id}\\n$`,
      ),
    );
    // AND the job goes on to its end once the gate opens
    writeFileSync(join(c.out, 'gate'), '');
    const follow = await c.cli(['deploys', 'logs', id, '--follow', '--local']);
    expect(follow.code).toBe(0);
    expect(follow.stderr).toBe(`» job ${id} succeeded (exit 0)\n`);
  });

  it('without --wait prints the job id at once and says how to follow it; the job runs on its own', async () => {
    // GIVEN a project whose command waits for a gate
    const c = newCase();
    await c.put('gated', '--command', './gate.sh');
    // WHEN it is triggered without --wait
    const run = await c.cli(['trigger', 'gated', 'main', '--local', '--no-commit']);
    // THEN the id is printed at once, with how to follow the job
    expect(run.code).toBe(0);
    const id = jobIdOf(run);
    expect(run.stderr).toBe(`queued job ${id}; follow it with: iwomp jobs logs ${id} --follow\n`);
    // AND the job cannot have ended: its command waits for the gate, which is still shut.
    const show = JSON.parse((await c.cli(['jobs', 'show', id, '--json'])).stdout) as JobRecord;
    expect(['queued', 'running']).toContain(show.state);
    // AND once the gate opens, following the job shows it to its end
    writeFileSync(join(c.out, 'gate'), '');
    const follow = await c.cli(['jobs', 'logs', id, '--follow']);
    expect(follow.code).toBe(0);
    expect(follow.stdout).toContain('gate open\n');
  });

  it('a rejected trigger exits 6 with the reason on one line and creates no job', async () => {
    // GIVEN app registered for main only
    const c = newCase();
    await c.put('app', '--command', './deploy.sh', '--branch', 'main');

    // WHEN a branch outside its rules is triggered
    const branch = await c.cli(['trigger', 'app', 'feature', '--local', '--wait', '--no-commit']);
    // THEN it exits rejected with the reason on one line, and prints no id
    expect(branch.code).toBe(CliExitCode.rejected);
    expect(branch.stdout).toBe('');
    expect(branch.stderr).toBe(
      "iwomp: rejected: branch 'feature' may not deploy project 'app' (allowed: main)\n",
    );

    // AND an unregistered project is rejected the same way
    const unknown = await c.cli(['trigger', 'nope', 'main', '--local', '--no-commit']);
    expect(unknown.code).toBe(CliExitCode.rejected);
    expect(unknown.stderr).toMatch(/^iwomp: rejected: project 'nope' is not registered \(no [^\n]+\)\n$/);

    // AND no job was created, and nothing deployed
    expect(c.jobFiles()).toEqual([]);
    expect(existsSync(join(c.out, 'deploys.txt'))).toBe(false);
    const list = await c.cli(['jobs', 'list']);
    expect(list).toMatchObject({ code: 0, stdout: '' });
    expect(list.stderr).toBe(`no jobs in ${join(c.stateDir, 'jobs')}\n`);
  });

  it('IWOMP_BACKEND=local selects local mode, and IWOMP_REGISTRY moves the registry for the CLI and the job alike', async () => {
    // GIVEN IWOMP_BACKEND=local and a registry elsewhere, named by IWOMP_REGISTRY
    const c = newCase();
    const registry = join(c.cwd, 'elsewhere');
    const env = { IWOMP_BACKEND: 'local', IWOMP_REGISTRY: `file:${registry}` };
    // WHEN app is put there without --local
    const put = await c.cli(
      ['projects', 'put', 'app', '--git-url', `file://${repo.bare}`, '--command', './deploy.sh'],
      env,
    );
    // THEN it lands in that registry
    expect(put.code).toBe(0);
    expect(existsSync(join(registry, 'app.json'))).toBe(true);
    // AND a trigger without --local deploys from it
    const run = await c.cli(['trigger', 'app', 'b1', '--wait', '--no-commit'], env);
    expect(run.code).toBe(0);
    expect(readFileSync(join(c.out, 'deploys.txt'), 'utf8')).toBe('b1\n');
    // The default registry was never made: the worker read the same one the trigger checked.
    expect(existsSync(join(c.stateDir, 'registry'))).toBe(false);
  });

  it('runs two triggers of one project one after the other, in the order they were made', async () => {
    // GIVEN a project whose command records its start and end
    const c = newCase();
    await c.put('fifo', '--command', './fifo.sh');
    // WHEN two branches are triggered one after the other
    const first = jobIdOf(await c.cli(['trigger', 'fifo', 'b1', '--local', '--no-commit']));
    const second = jobIdOf(await c.cli(['trigger', 'fifo', 'b2', '--local', '--no-commit']));

    // THEN following the second shows it waited for the first, which succeeded
    const followSecond = await c.cli(['jobs', 'logs', second, '--follow']);
    expect(followSecond.code).toBe(0);
    expect(followSecond.stdout).toContain(`waiting for job ${first} of the same project to finish`);
    const firstRecord = JSON.parse((await c.cli(['jobs', 'show', first, '--json'])).stdout) as JobRecord;
    expect(firstRecord.state).toBe('succeeded');
    // AND what the deploy script recorded: b1 ended before b2 started.
    expect(readFileSync(join(c.out, 'fifo.txt'), 'utf8').trim().split('\n')).toEqual([
      'start b1',
      'end b1',
      'start b2',
      'end b2',
    ]);
  });
});

describe('iwomp jobs', () => {
  it('logs --follow streams a running job and ends when the job ends', async () => {
    // GIVEN a job whose command waits for a gate
    const c = newCase();
    await c.put('gated', '--command', './gate.sh');
    const id = jobIdOf(await c.cli(['trigger', 'gated', 'main', '--local', '--no-commit']));
    const logFile = join(c.stateDir, 'jobs', `${id}.log`);

    // WHEN its log is followed, and the gate opens once the command runs
    const following = c.cli(['jobs', 'logs', id, '--follow']);
    // Open the gate only once the command runs: the follow started before the job could end.
    for (let i = 0; i < 400 && !readFileSync(logFile, 'utf8').includes('waiting for the gate'); i++) {
      await sleep(25);
    }
    writeFileSync(join(c.out, 'gate'), '');
    const follow = await following;

    // THEN the follow streamed the whole log and ended with the job's result
    expect(follow.code).toBe(0);
    expect(follow.stdout).toContain('waiting for the gate\ngate open\n');
    expect(follow.stdout).toMatch(new RegExp(`\\[iwomp\\] job ${id} succeeded \\(exit 0\\) in [\\d.]+s\\n$`));
    expect(follow.stderr).toBe(`» job ${id} succeeded (exit 0)\n`);
    // AND with --json it gives the record with its log
    const json = JSON.parse((await c.cli(['jobs', 'logs', id, '--follow', '--json'])).stdout);
    expect(json).toMatchObject({ id, state: 'succeeded', exitCode: 0 });
    expect(json.log).toContain('gate open\n');
  });

  it('refuses an unknown id (exit 4) and a malformed one (exit 3) in one line; a damaged record is exit 5', async () => {
    // GIVEN a fresh state directory
    const c = newCase();
    // WHEN / THEN show, logs and logs --follow refuse an unknown id and a malformed one, each in one line
    for (const sub of [['show'], ['logs'], ['logs', '--follow']]) {
      const missing = await c.cli(['jobs', ...sub, 'app-20260101T000000-000000']);
      expect(missing.code).toBe(CliExitCode.notFound);
      expect(missing.stderr).toBe(
        `iwomp: no local job 'app-20260101T000000-000000' in ${c.stateDir} (see: iwomp jobs list)\n`,
      );
      const bad = await c.cli(['jobs', ...sub, '../registry/app']);
      expect(bad.code).toBe(CliExitCode.invalidInput);
      expect(bad.stderr).toBe('iwomp: invalid job id "../registry/app"\n');
    }
    // AND a damaged record makes show exit 5, naming its file
    mkdirSync(join(c.stateDir, 'jobs'), { recursive: true });
    writeFileSync(join(c.stateDir, 'jobs', 'broken.json'), '{"version": 1, "id": ');
    const damaged = await c.cli(['jobs', 'show', 'broken']);
    expect(damaged.code).toBe(CliExitCode.service);
    expect(damaged.stderr).toBe(`iwomp: ${join(c.stateDir, 'jobs', 'broken.json')} is not valid JSON\n`);
  });

  it('list reports a damaged record without hiding the other jobs, and filters by project', async () => {
    // GIVEN a succeeded job, a failed job and a damaged record
    const c = newCase();
    await c.put('app', '--command', './deploy.sh');
    await c.put('failing', '--command', './fail.sh');
    const ok = jobIdOf(await c.cli(['trigger', 'app', 'main', '--local', '--wait', '--no-commit']));
    const failed = jobIdOf(await c.cli(['trigger', 'failing', 'main', '--local', '--wait', '--no-commit']));
    writeFileSync(join(c.stateDir, 'jobs', 'broken.json'), 'not json');

    // WHEN the jobs are listed
    const list = await c.cli(['jobs', 'list']);
    // THEN both jobs are listed, with one warning for the damaged record
    expect(list.code).toBe(0);
    expect(list.stderr).toBe(
      `warning: skipped ${join(c.stateDir, 'jobs', 'broken.json')}: ${join(c.stateDir, 'jobs', 'broken.json')} is not valid JSON\n`,
    );
    expect(list.stdout).toMatch(new RegExp(`^${failed} +failing +main +failed +7 `, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${ok} +app +main +succeeded +0 `, 'm'));

    // AND --project keeps that project's jobs only, and refuses a bad name
    const only = JSON.parse((await c.cli(['jobs', 'list', '--project', 'failing', '--json'])).stdout);
    expect(only.map((j: JobRecord) => j.id)).toEqual([failed]);
    const badProject = await c.cli(['jobs', 'list', '--project', '../x']);
    expect(badProject.code).toBe(CliExitCode.invalidInput);
  });
});

describe('the built CLI (dist/cli.js) in local mode', () => {
  it('registers a project served over HTTP with a token, deploys it, and exits with the outcome', async () => {
    // GIVEN a token-protected project over HTTP, registered with the built CLI
    const c = newCase();
    const env = { ...c.env, IWOMP_BACKEND: 'local', GIT_TOKEN: TOKEN };
    const put = await runCliProcess(
      [
        'projects',
        'put',
        'app',
        '--git-url',
        server.url('app.git'),
        '--auth-token-env',
        'GIT_TOKEN',
        '--command',
        './deploy.sh',
        '--branch',
        'main',
      ],
      { env, cwd: c.cwd },
    );
    expect(put).toMatchObject({ code: 0, stderr: '' });

    // WHEN it is triggered with --wait
    const ok = await runCliProcess(['trigger', 'app', 'main', '--wait', '--no-commit'], { env, cwd: c.cwd });
    // THEN it deploys and exits 0
    expect(ok.stderr).toContain('deploy output: branch main\n');
    expect(ok.code).toBe(0);
    const id = jobIdOf(ok);
    // AND the token reached git, never the log.
    expect(readFileSync(join(c.stateDir, 'jobs', `${id}.log`), 'utf8')).not.toContain(TOKEN);

    // AND a failing deploy exits 7 (failed), its status in the JSON
    // The deploy command inherits the caller's environment, so DEPLOY_EXIT sets its status.
    const failed = await runCliProcess(['trigger', 'app', 'main', '--wait', '--no-commit', '--json'], {
      env: { ...env, DEPLOY_EXIT: '5' },
      cwd: c.cwd,
    });
    expect(failed.code).toBe(CliExitCode.failed);
    const report = JSON.parse(failed.stdout);
    expect(report).toMatchObject({
      backend: 'local',
      message: { project: 'app', branch: 'main' },
      state: 'failed',
      workerExitCode: 5,
      job: { state: 'failed', exitCode: 5 },
    });
    expect(readFileSync(join(c.out, 'deploys.txt'), 'utf8')).toBe('main\nmain\n');

    // AND a branch outside the rules is rejected, with no new job
    const rejected = await runCliProcess(['trigger', 'app', 'feature', '--wait', '--no-commit'], {
      env,
      cwd: c.cwd,
    });
    expect(rejected.code).toBe(CliExitCode.rejected);
    expect(rejected.stderr).toBe(
      "iwomp: rejected: branch 'feature' may not deploy project 'app' (allowed: main)\n",
    );
    expect(c.jobFiles()).toHaveLength(2);

    // AND jobs logs shows the first job's log
    const logs = await runCliProcess(['jobs', 'logs', id], { env, cwd: c.cwd });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('deploy output: branch main\n');
  });
});
