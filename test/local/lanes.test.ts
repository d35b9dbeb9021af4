import { spawn } from 'node:child_process';
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
import type { LocalJobRecord } from '../../src/local/job-record.js';
import { JobStore } from '../../src/local/job-store.js';
import { joinLane } from '../../src/local/join-lane.js';
import { ProjectQueue } from '../../src/local/project-queue.js';
import { settleIfLost } from '../../src/local/run-job.js';
import { localPaths } from '../../src/local/state-dir.js';
import { type CliRun, runCliInProcess, runCliProcess } from '../support/cli.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo, type FixtureRepo } from '../support/repos.js';

// One deploy at a time per project, locally (docs/lifecycle.md): the lane rule of
// core/deploy-lane.ts applied by `iwomp trigger --local` over the queue folder.

const TOKEN = 'tok-local-lanes-3f9a27c1';

// Each trigger carries its own TAG in the environment its job inherits. The command records its
// start and end, then holds the project until the test creates $OUT/release (bounded: never hangs).
const HOLD = `#!/bin/sh
echo "start $TAG" >> "$OUT/order.txt"
echo "deploying $TAG"
i=0
while [ ! -f "$OUT/release" ]; do
  i=$((i+1)); if [ $i -gt 600 ]; then echo "never released"; exit 9; fi
  sleep 0.05
done
echo "end $TAG" >> "$OUT/order.txt"
`;

let root: string;
let repo: FixtureRepo;
let server: GitServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-local-lanes-'));
  repo = createRepo(root, 'app');
  repo.commit('main', { 'hold.sh': { content: HOLD, executable: true } });
  repo.commit('release', { 'release.txt': 'release' });
  server = await startGitServer(root, { kind: 'token', token: TOKEN });
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Case {
  cwd: string;
  out: string;
  env: Record<string, string>;
  /** `iwomp trigger app <branch> --local` (in this process), its job inheriting TAG=<tag>; returns the job id. */
  trigger(branch: string, tag: string): Promise<string>;
  cli(argv: readonly string[], extraEnv?: Record<string, string>): Promise<CliRun>;
  record(id: string): LocalJobRecord;
  log(id: string): string;
  /** Every job's id. */
  jobIds(): string[];
  /** The lines the deploy commands wrote, in order. */
  order(): string[];
  /** Lets the running command (and every later one) end. */
  release(): void;
}

let counter = 0;
async function newCase(doc: Record<string, unknown> = {}): Promise<Case> {
  counter += 1;
  const cwd = join(root, `case-${counter}`);
  const out = join(cwd, 'out');
  mkdirSync(out, { recursive: true });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', OUT: out };
  const cli = (argv: readonly string[], extraEnv: Record<string, string> = {}) =>
    runCliInProcess(argv, { env: { ...env, ...extraEnv }, cwd });
  const docFile = join(cwd, 'app.json');
  writeFileSync(docFile, JSON.stringify({ command: './hold.sh', ...doc }));
  const put = await cli(
    [
      'projects',
      'put',
      'app',
      '--local',
      '-f',
      docFile,
      '--git-url',
      server.url('app.git'),
      '--auth-token-env',
      'GIT_TOKEN',
    ],
    { GIT_TOKEN: TOKEN },
  );
  expect(put).toMatchObject({ code: 0, stderr: '' });
  const jobs = join(cwd, '.iwomp', 'jobs');
  return {
    cwd,
    out,
    env,
    cli,
    async trigger(branch, tag) {
      const run = await cli(['trigger', 'app', branch, '--local', '--no-commit'], { TAG: tag });
      expect(run.code).toBe(0);
      return run.stdout.trim();
    },
    record: (id) => JSON.parse(readFileSync(join(jobs, `${id}.json`), 'utf8')) as LocalJobRecord,
    log: (id) => (existsSync(join(jobs, `${id}.log`)) ? readFileSync(join(jobs, `${id}.log`), 'utf8') : ''),
    jobIds: () =>
      existsSync(jobs)
        ? readdirSync(jobs)
            .filter((n) => n.endsWith('.json'))
            .map((n) => n.slice(0, -5))
        : [],
    order: () =>
      existsSync(join(out, 'order.txt'))
        ? readFileSync(join(out, 'order.txt'), 'utf8').trim().split('\n')
        : [],
    release: () => writeFileSync(join(out, 'release'), ''),
  };
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const FINAL = new Set(['succeeded', 'failed', 'superseded', 'cancelled']);

describe('iwomp trigger --local: one deploy at a time per project', () => {
  it('supersede (the default): a newer trigger of a branch replaces the waiting one; another branch keeps its place', async () => {
    // GIVEN A (main) running, then B (main) and R (release) waiting behind it
    const c = await newCase();
    const a = await c.trigger('main', 'A');
    await waitFor('A to start', () => c.order().includes('start A'));
    const b = await c.trigger('main', 'B');
    await waitFor('B to wait', () => c.log(b).includes(`waiting for job ${a}`));
    const r = await c.trigger('release', 'R');

    // WHEN C (main) arrives
    const cid = await c.trigger('main', 'C');

    // THEN B is superseded by C as soon as the trigger returns, and its runner ends without running
    expect(c.record(b)).toMatchObject({
      state: 'superseded',
      error: `superseded by ${cid}, a newer trigger of the same branch`,
    });
    expect(c.record(b).startedAt).toBeUndefined();
    expect(c.record(b).exitCode).toBeUndefined();
    expect(c.log(b)).toContain(
      `job ${b} superseded by ${cid}, a newer trigger of the same branch: it does not run`,
    );
    // Its runner saw it and ended: it cleared the file that said how its wait ended.
    await waitFor("B's runner to end", () => !existsSync(join(c.cwd, '.iwomp', 'queue', 'app', `${b}.end`)));
    // AND the running A and the waiting R are untouched
    expect(c.record(a).state).toBe('running');
    expect(c.record(r).state).toBe('queued');

    // WHEN A's command is let go
    c.release();
    const follow = await c.cli(['jobs', 'logs', cid, '--follow']);

    // THEN A, R (ahead of C: it kept its place), then C ran, one at a time; B never ran
    expect(follow.code).toBe(0);
    expect(c.order()).toEqual(['start A', 'end A', 'start R', 'end R', 'start C', 'end C']);
    expect([a, r, cid].map((id) => c.record(id).state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The superseded record was left as the newer trigger wrote it: not turned into failed or cancelled.
    expect(c.record(b)).toMatchObject({
      state: 'superseded',
      error: `superseded by ${cid}, a newer trigger of the same branch`,
    });
    expect(c.log(b)).not.toContain('deploying');
    const list = await c.cli(['jobs', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${b} +app +main +superseded `, 'm'));
    // AND nothing is left in the queue: no place, no end file.
    expect(readdirSync(join(c.cwd, '.iwomp', 'queue', 'app'))).toEqual([]);
  });

  it('queue: every trigger waits its turn, first in, first out, none superseded', async () => {
    // GIVEN a project in queue mode, A (main) running, B (main) waiting
    const c = await newCase({ concurrency: 'queue' });
    const a = await c.trigger('main', 'A');
    await waitFor('A to start', () => c.order().includes('start A'));
    const b = await c.trigger('main', 'B');

    // WHEN C (main) arrives, and A is let go
    const cid = await c.trigger('main', 'C');
    expect(c.record(b).state).toBe('queued');
    c.release();
    const follow = await c.cli(['jobs', 'logs', cid, '--follow']);

    // THEN A, B and C all ran, in that order, one at a time
    expect(follow.code).toBe(0);
    expect(c.order()).toEqual(['start A', 'end A', 'start B', 'end B', 'start C', 'end C']);
    expect([a, b, cid].map((id) => c.record(id).state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('two triggers of one branch from two processes at once, while A runs: exactly one waits, one is superseded, none is lost', async () => {
    // GIVEN A (main) running
    const c = await newCase();
    const a = await c.trigger('main', 'A');
    await waitFor('A to start', () => c.order().includes('start A'));

    // WHEN two shells trigger main at the same moment (the built CLI, two processes)
    const shell = (tag: string) =>
      runCliProcess(['trigger', 'app', 'main', '--local', '--no-commit'], {
        env: { ...c.env, TAG: tag },
        cwd: c.cwd,
      });
    const runs = await Promise.all([shell('X'), shell('Y')]);
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const [x, y] = runs.map((run) => run.stdout.trim()) as [string, string];

    // THEN exactly one of them is superseded, by the other, which waits
    const states = [x, y].map((id) => c.record(id).state).sort();
    expect(states).toEqual(['queued', 'superseded']);
    const [loser, winner] = c.record(x).state === 'superseded' ? [x, y] : [y, x];
    expect(c.record(loser).error).toBe(`superseded by ${winner}, a newer trigger of the same branch`);

    // AND once A is let go, the waiting one runs after it, and every record ends
    c.release();
    await c.cli(['jobs', 'logs', winner, '--follow']);
    const winnerTag = winner === x ? 'X' : 'Y';
    expect(c.order()).toEqual(['start A', 'end A', `start ${winnerTag}`, `end ${winnerTag}`]);
    expect(c.record(a).state).toBe('succeeded');
    expect(c.record(winner).state).toBe('succeeded');
    expect(c.record(loser).state).toBe('superseded');
    const listed = JSON.parse((await c.cli(['jobs', 'list', '--json'])).stdout) as LocalJobRecord[];
    expect(listed).toHaveLength(3);
    expect(listed.every((job) => FINAL.has(job.state))).toBe(true);
    expect(readdirSync(join(c.cwd, '.iwomp', 'queue', 'app'))).toEqual([]);
  });

  it('trigger --wait on a job that gets superseded ends, and says superseded', async () => {
    // GIVEN A (main) running, and B (main) triggered with --wait, waiting behind it
    const c = await newCase();
    const a = await c.trigger('main', 'A');
    await waitFor('A to start', () => c.order().includes('start A'));
    const waiting = c.cli(['trigger', 'app', 'main', '--local', '--wait', '--no-commit'], { TAG: 'B' });
    await waitFor('B to wait', () =>
      c.jobIds().some((id) => id !== a && c.log(id).includes(`waiting for job ${a}`)),
    );

    // WHEN C (main) arrives
    const cid = await c.trigger('main', 'C');

    // THEN B's --wait ends without A having ended, reporting superseded, with the superseded exit code
    const run = await Promise.race([
      waiting,
      sleep(20_000).then(() => {
        throw new Error('trigger --wait did not end');
      }),
    ]);
    const b = run.stdout.trim();
    expect(c.record(a).state).toBe('running');
    expect(c.record(b)).toMatchObject({ state: 'superseded' });
    expect(run.stderr).toContain(`superseded by ${cid}, a newer trigger of the same branch`);
    expect(run.stderr).toMatch(/^» app main · superseded · \d+\.\ds$/m);
    expect(run.code).toBe(CliExitCode.superseded);
    c.release();
    await c.cli(['jobs', 'logs', cid, '--follow']);
  });
});

describe('ProjectQueue lanes: many triggers of one branch at once', () => {
  it('supersedes all but the newest, each exactly once, and never the holder', async () => {
    // GIVEN a holder (this process: alive) at the head of the lane
    const queue = new ProjectQueue(mkdtempSync(join(root, 'queue-')));
    const holder = await queue.enqueue('app', 'holder', 'main');

    // WHEN 20 triggers of main join at once
    const ids = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    const superseded = await Promise.all(
      ids.map(async (id) => {
        const ticket = await queue.enqueue('app', id, 'main');
        return (await queue.admit('app', ticket, 'supersede', async () => undefined)).map((e) => e.jobId);
      }),
    );

    // THEN every one but one was superseded, once, and the holder was not
    const all = superseded.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(19);
    expect(all).not.toContain('holder');
    const left = ids.filter((id) => !all.includes(id));
    expect(left).toHaveLength(1);
    for (const id of all) expect(await queue.readEnd('app', id)).toMatchObject({ kind: 'superseded' });
    expect(await queue.read('app', holder)).toMatchObject({ jobId: 'holder' });
  });

  it('from 6 processes released at the same moment: one waits, 5 are superseded, each once', async () => {
    // GIVEN a holder (this process) and 6 processes that join the lane the moment a file appears
    const dir = mkdtempSync(join(root, 'queue-'));
    const queue = new ProjectQueue(dir);
    await queue.enqueue('app', 'holder', 'main');
    const go = join(dir, 'go');
    const script = join(import.meta.dirname, '../support/lane-join.ts');
    const ids = Array.from({ length: 6 }, (_, i) => `proc-${i}`);
    const children = ids.map((id) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir, 'app', id, 'main', go], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      return { stdout: () => stdout, closed };
    });
    await waitFor('every process to be ready', () => children.every((c) => c.stdout().startsWith('ready\n')));

    // WHEN the file appears
    writeFileSync(go, '');
    await waitFor('every process to decide', () => children.every((c) => c.stdout().endsWith('decided\n')));
    rmSync(go);
    await Promise.all(children.map((c) => c.closed));

    // THEN 5 were superseded, each by exactly one process, and the one left is not among them
    const all = children.flatMap((c) =>
      c
        .stdout()
        .trim()
        .split('\n')
        .filter((l) => l !== 'ready' && l !== 'decided'),
    );
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(5);
    expect(all).not.toContain('holder');
    expect(ids.filter((id) => !all.includes(id))).toHaveLength(1);
  });

  it('a job superseded before its trigger wrote its record is still recorded superseded, not failed, when found without a runner', async () => {
    // GIVEN B (main) queued behind a holder, its record not written yet, and C (main) joining the lane
    const state = mkdtempSync(join(root, 'state-'));
    const paths = localPaths(state);
    const queue = new ProjectQueue(paths.queue);
    const store = new JobStore(paths.jobs, paths.root);
    await queue.enqueue('app', 'holder', 'main');
    const bTicket = await queue.enqueue('app', 'job-b', 'main');
    const cTicket = await queue.enqueue('app', 'job-c', 'main');
    await store.create(queuedRecord('job-c', cTicket));
    expect(
      await joinLane({ queue, store }, { id: 'job-c', project: 'app', ticket: cTicket }, 'supersede'),
    ).toEqual([]);

    // WHEN B's record appears (its trigger was slow), and a follower finds it with no place in the queue
    await store.create(queuedRecord('job-b', bTicket));
    const settled = await settleIfLost({ queue, store }, await store.read('job-b'));

    // THEN it is recorded superseded by C, as its runner would have
    expect(settled).toMatchObject({
      state: 'superseded',
      error: 'superseded by job-c, a newer trigger of the same branch',
    });
    expect((await store.read('job-b')).state).toBe('superseded');
  });
});

function queuedRecord(id: string, ticket: string): LocalJobRecord {
  return {
    version: 1,
    id,
    project: 'app',
    branch: 'main',
    state: 'queued',
    ticket,
    createdAt: new Date().toISOString(),
  };
}
