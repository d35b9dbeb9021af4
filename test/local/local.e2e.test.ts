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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/adapters/local/local-backend.js';
import { bundledProgram } from '../../src/adapters/local/process-job-launcher.js';
import { RegistryError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { JobProgress } from '../../src/ports/job-tracker.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo, type FixtureRepo } from '../support/repos.js';

const TOKEN = 'tok-local-9d3e51a0c4';
const WORKER = bundledProgram('worker');

// Deploy scripts that record what they observe in $OUT, so tests assert on facts, not timing.
const SCRIPTS = {
  'deploy.sh': `#!/bin/sh
echo "deploy args: $*"
env | sort > "$OUT/env-$1.txt"
echo "hello from the deploy command"
exit "\${DEPLOY_EXIT:-0}"
`,
  'fifo.sh': `#!/bin/sh
echo "start $1" >> "$OUT/fifo.txt"
sleep 0.2
echo "end $1" >> "$OUT/fifo.txt"
`,
  // Succeeds only if the other project's job is running at the same time (bounded wait: never hangs).
  'overlap.sh': `#!/bin/sh
touch "$OUT/$1.started"
i=0
while [ ! -f "$OUT/$2.started" ]; do
  i=$((i+1)); if [ $i -gt 400 ]; then echo "$1 never saw $2 running"; exit 9; fi
  sleep 0.05
done
echo "$1 saw $2 running"
`,
  // Holds its job's place until the test releases it (bounded wait), recording start and end.
  'hold.sh': `#!/bin/sh
echo "start $1" >> "$OUT/order.txt"
echo $$ > "$OUT/hold-$1.pid"
i=0
while [ ! -f "$OUT/release" ]; do
  i=$((i+1)); if [ $i -gt 400 ]; then exit 9; fi
  sleep 0.05
done
echo "end $1" >> "$OUT/order.txt"
`,
  // Waits until the test opens the gate (bounded wait).
  'gate.sh': `#!/bin/sh
echo $$ > "$OUT/gate.pid"
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
let server: GitServer;
let repo: FixtureRepo;
let mainCommit: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-local-e2e-'));
  repo = createRepo(root, 'app');
  const files = Object.fromEntries(
    Object.entries(SCRIPTS).map(([name, content]) => [name, { content, executable: true }]),
  );
  mainCommit = repo.commit('main', files);
  for (const branch of ['b1', 'b2', 'b3', 'feature']) repo.commit(branch, { [`${branch}.txt`]: branch });
  server = await startGitServer(root, { kind: 'token', token: TOKEN });
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  local: LocalBackend;
  out: string;
  stateDir: string;
  /** Another backend on the same state directory, with extra environment for its jobs. */
  withEnv(extra: Record<string, string>): LocalBackend;
  register(project: string, doc: Record<string, unknown>): Promise<void>;
}

let counter = 0;
async function setup(): Promise<Setup> {
  counter += 1;
  const base = join(root, `case-${counter}`);
  const out = join(base, 'out');
  const stateDir = join(base, 'state');
  mkdirSync(out, { recursive: true });
  const withEnv = (extra: Record<string, string>) =>
    new LocalBackend({ stateDir, env: { ...process.env, OUT: out, ...extra } });
  const local = withEnv({});
  const register = (project: string, doc: Record<string, unknown>) =>
    local.registry.put(project, JSON.stringify({ gitUrl: server.url('app.git'), authToken: TOKEN, ...doc }), {
      secure: true,
    });
  await register('app', { command: './deploy.sh', branches: ['main'] });
  return { local, out, stateDir, withEnv, register };
}

function accepted(outcome: Awaited<ReturnType<LocalBackend['trigger']>>): string {
  if (outcome.outcome !== 'accepted') throw new Error(`expected accepted, got: ${outcome.reason}`);
  return outcome.jobId;
}

async function followAll(local: LocalBackend, id: string) {
  let log = '';
  const progress: JobProgress[] = [];
  const record = await local.follow(id, {
    onOutput: (text) => {
      log += text;
    },
    onProgress: (p) => progress.push(p),
  });
  return { record, log, progress };
}

describe('local mode end to end (handleTrigger, process launcher, dist/worker.js, git http-backend)', () => {
  it('runs an accepted trigger: clone over HTTP with the token, deploy output in the job log, succeeded record', async () => {
    const { local } = await setup();
    const id = accepted(await local.trigger({ project: 'app', branch: 'main' }));

    const { record, log } = await followAll(local, id);

    expect(record).toMatchObject({ id, project: 'app', branch: 'main', state: 'succeeded', exitCode: 0 });
    expect(log).toContain('deploy args: main');
    expect(log).toContain('hello from the deploy command');
    expect(log).toContain(`checked out ${mainCommit}`);
    expect(readFileSync(local.logPath(id), 'utf8')).toBe(log);
    expect(server.seenAuthorization).toContain(`Bearer ${TOKEN}`);
    expect(log).not.toContain(TOKEN);
    const created = Date.parse(record.createdAt);
    const started = Date.parse(record.startedAt ?? '');
    const finished = Date.parse(record.finishedAt ?? '');
    expect(created <= started && started <= finished).toBe(true);
    expect((await local.list()).jobs.map((j) => j.id)).toEqual([id]);
  });

  it("runs the worker with exactly CodeBuild's contract, whatever the caller's environment holds", async () => {
    const { local, out, stateDir } = await setup();
    // The worker's own environment, recorded by a wrapper before it runs dist/worker.js.
    const polluted = new LocalBackend({
      stateDir,
      env: {
        ...process.env,
        OUT: out,
        GITCOMMIT: 'f'.repeat(40),
        PROJECTNAME: 'other',
        IWOMP_REGISTRY: 'ssm',
        IWOMP_KEEP_WORKDIR: '1',
      },
      workerCommand: [
        '/bin/sh',
        '-c',
        'env | sort > "$OUT/worker-env.txt"; exec "$0" "$1"',
        process.execPath,
        WORKER,
      ],
    });
    const id = accepted(await polluted.trigger({ project: 'app', branch: 'main' }));
    const { record } = await followAll(local, id);

    expect(record.state).toBe('succeeded');
    const env = readFileSync(join(out, 'worker-env.txt'), 'utf8');
    expect(env).toMatch(/^CONFIGPATH=iwomp-in-aws$/m);
    expect(env).toMatch(/^PROJECTNAME=app$/m);
    expect(env).toMatch(/^GITBRANCH=main$/m);
    expect(env).not.toMatch(/^GITCOMMIT=/m);
    expect(env).toContain(`IWOMP_REGISTRY=file:${join(stateDir, 'registry')}\n`);
    expect(env).toMatch(/^IWOMP_LOCAL=1$/m);
    expect(env).toContain(`IWOMP_WORKDIR=${join(stateDir, 'work', id)}\n`);
    expect(env).not.toMatch(/^IWOMP_KEEP_WORKDIR=/m);
    // The fresh work directory is gone once the job ends.
    expect(readdirSync(join(stateDir, 'work'))).toEqual([]);
    // The deploy command sees none of it: nothing that points at the registry or the worker.
    const commandEnv = readFileSync(join(out, 'env-main.txt'), 'utf8');
    expect(commandEnv).not.toMatch(
      /^(IWOMP_REGISTRY|IWOMP_LOCAL|IWOMP_WORKDIR|IWOMP_REPORT_FD|CONFIGPATH)=/m,
    );
    expect(commandEnv).toMatch(/^IWOMP_PROJECT=app$/m);
  });

  it('checks the trigger and runs the worker against one registry, wherever it is', async () => {
    const { out, stateDir } = await setup();
    const elsewhere = join(root, `registry-elsewhere-${counter}`);
    const local = new LocalBackend({
      stateDir,
      registry: { kind: 'file', dir: elsewhere },
      env: { ...process.env, OUT: out },
      workerCommand: [
        '/bin/sh',
        '-c',
        'env | sort > "$OUT/worker-env.txt"; exec "$0" "$1"',
        process.execPath,
        WORKER,
      ],
    });
    // Not registered there yet: the registry under the state directory does not count.
    expect(await local.trigger({ project: 'app', branch: 'main' })).toMatchObject({ outcome: 'rejected' });
    await local.registry.put(
      'app',
      JSON.stringify({ gitUrl: server.url('app.git'), authToken: TOKEN, command: './deploy.sh' }),
      { secure: true },
    );
    const id = accepted(await local.trigger({ project: 'app', branch: 'main' }));
    expect((await local.follow(id)).state).toBe('succeeded');
    // Read by the worker there (the deploy command itself is never told where the registry is).
    expect(readFileSync(join(out, 'worker-env.txt'), 'utf8')).toContain(`IWOMP_REGISTRY=file:${elsewhere}\n`);
  });

  it('passes the commit CI tested, and records a superseded job when the branch has moved on', async () => {
    const { local } = await setup();
    const ok = accepted(await local.trigger({ project: 'app', branch: 'main', commit: mainCommit }));
    expect((await followAll(local, ok)).record).toMatchObject({ state: 'succeeded', commit: mainCommit });

    const stale = '0'.repeat(40);
    const id = accepted(await local.trigger({ project: 'app', branch: 'main', commit: stale }));
    const { record, log } = await followAll(local, id);
    expect(record).toMatchObject({ state: 'superseded', exitCode: ExitCode.superseded });
    expect(record.error).toMatch(/^superseded: branch 'main' is at /);
    expect(log).not.toContain('deploy args');
  });

  it("records the deploy command's exit status and its one-line reason", async () => {
    const { withEnv } = await setup();
    const failing = withEnv({ DEPLOY_EXIT: '7' });
    const id = accepted(await failing.trigger({ project: 'app', branch: 'main' }));
    const { record, log } = await followAll(failing, id);
    expect(record).toMatchObject({
      state: 'failed',
      exitCode: 7,
      error: 'command failed with exit status 7',
    });
    expect(log).toContain('deploy args: main');
  });

  it('reports progress: queued, then running with the clone and command phases, with elapsed time', async () => {
    const { local, out, register } = await setup();
    await register('gated', { command: './gate.sh' });
    const id = accepted(await local.trigger({ project: 'gated', branch: 'main' }));
    const seen: string[] = [];
    // The gate opens only once the follower has seen the command phase: if phases were not
    // tracked, the script would give up and the job would fail.
    const record = await local.follow(id, {
      onProgress: ({ record: r, elapsedMs }) => {
        expect(elapsedMs).toBeGreaterThanOrEqual(0);
        const key = r.phase ? `${r.state}:${r.phase}` : r.state;
        if (seen.at(-1) !== key) seen.push(key);
        if (r.phase === 'command') writeFileSync(join(out, 'gate'), '');
      },
    });
    expect(record.state).toBe('succeeded');
    expect(seen).toContain('running:command');
    expect(seen.at(-1)).toBe('succeeded');
    expect(seen.indexOf('running:command')).toBeLessThan(seen.indexOf('succeeded'));
  });

  it('creates no job for a rejected trigger, and says why', async () => {
    const { local, stateDir } = await setup();
    const cases: Array<[unknown, RegExp]> = [
      [
        { project: 'app', branch: 'feature' },
        /^branch 'feature' may not deploy project 'app' \(allowed: main\)$/,
      ],
      [
        { project: 'nope', branch: 'main' },
        /^project 'nope' is not registered \(no .*\/registry\/nope\.json\)$/,
      ],
      [{ project: 'app', branch: 'main', command: 'rm -rf /' }, /unknown key command/],
      [{ project: '../app', branch: 'main' }, /invalid project name/],
      [{ project: 'app', branch: '--upload-pack=x' }, /invalid branch name/],
    ];
    for (const [message, reason] of cases) {
      const outcome = await local.trigger(JSON.stringify(message));
      expect(outcome.outcome).toBe('rejected');
      if (outcome.outcome === 'rejected') expect(outcome.reason).toMatch(reason);
    }
    expect((await local.list()).jobs).toEqual([]);
    expect(existsSync(join(stateDir, 'jobs'))).toBe(false);
    expect(existsSync(join(stateDir, 'queue'))).toBe(false);
  });

  it('gives a clear rejection for broken registry files, and a clear error for an unreadable registry', async () => {
    const { local, stateDir } = await setup();
    const registry = join(stateDir, 'registry');
    writeFileSync(join(registry, 'broken.json'), '{"gitUrl": ');
    writeFileSync(
      join(registry, 'typo.json'),
      JSON.stringify({ gitUrl: 'https://x.invalid/r', comand: 'x' }),
    );
    expect(await local.trigger({ project: 'broken', branch: 'main' })).toMatchObject({
      outcome: 'rejected',
      reason: `${join(registry, 'broken.json')} is not valid JSON: line 1, column 12: Unexpected end of JSON input`,
    });
    expect(await local.trigger({ project: 'typo', branch: 'main' })).toMatchObject({
      outcome: 'rejected',
      reason: `${join(registry, 'typo.json')}: unknown key comand`,
    });
    writeFileSync(join(registry, '_default.json'), '[1]');
    expect(await local.trigger({ project: 'app', branch: 'main' })).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringMatching(/_default\.json: /),
    });
    expect((await local.list()).jobs).toEqual([]);

    // A registry that cannot be read at all is not the trigger's fault: it throws, named.
    const fileNotDir = join(root, `not-a-dir-${counter}`);
    writeFileSync(fileNotDir, '');
    const elsewhere = new LocalBackend({ stateDir: fileNotDir });
    await expect(elsewhere.trigger({ project: 'app', branch: 'main' })).rejects.toThrow(RegistryError);
    await expect(elsewhere.trigger({ project: 'app', branch: 'main' })).rejects.toThrow(
      /^cannot read .*registry\/_default\.json: ENOTDIR/,
    );
  });

  it('runs two or more jobs of one project one after the other, first in first out', async () => {
    const { local, out, register } = await setup();
    await register('serial', { command: './fifo.sh' });
    const ids = [];
    for (const branch of ['b1', 'b2', 'b3'])
      ids.push(accepted(await local.trigger({ project: 'serial', branch })));
    const records = [];
    for (const id of ids) records.push((await followAll(local, id)).record);

    expect(records.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(readFileSync(join(out, 'fifo.txt'), 'utf8').trim().split('\n')).toEqual([
      'start b1',
      'end b1',
      'start b2',
      'end b2',
      'start b3',
      'end b3',
    ]);
    for (let i = 1; i < records.length; i++) {
      expect(Date.parse(records[i]?.startedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(records[i - 1]?.finishedAt ?? ''),
      );
    }
    const secondLog = readFileSync(local.logPath(ids[1] as string), 'utf8');
    expect(secondLog).toContain(`waiting for job ${ids[0]} of the same project to finish`);
  });

  it('serializes the jobs of one project triggered from two separate processes', async () => {
    const { local, out, stateDir, register } = await setup();
    await register('serial', { command: './fifo.sh' });
    const script = join(import.meta.dirname, '../support/local-trigger.ts');
    const trigger = (branch: string) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, stateDir, 'serial', branch], {
          env: { ...process.env, OUT: out },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve(stdout.trim()) : reject(new Error(`exit ${code}`)),
        );
      });
    const ids = await Promise.all([trigger('b1'), trigger('b2')]);
    const records = await Promise.all(ids.map((id) => local.follow(id)));

    expect(records.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    const lines = readFileSync(join(out, 'fifo.txt'), 'utf8').trim().split('\n');
    // Either may go first; they never interleave.
    expect([
      ['start b1', 'end b1', 'start b2', 'end b2'],
      ['start b2', 'end b2', 'start b1', 'end b1'],
    ]).toContainEqual(lines);
  });

  it('runs jobs of different projects at the same time', async () => {
    const { local, register } = await setup();
    await register('p1', { command: ['./overlap.sh', 'p1', 'p2'] });
    await register('p2', { command: ['./overlap.sh', 'p2', 'p1'] });
    const a = accepted(await local.trigger({ project: 'p1', branch: 'main' }));
    const b = accepted(await local.trigger({ project: 'p2', branch: 'main' }));
    const [ra, rb] = await Promise.all([followAll(local, a), followAll(local, b)]);
    expect(ra.record.state).toBe('succeeded');
    expect(rb.record.state).toBe('succeeded');
    expect(ra.log).toContain('p1 saw p2 running');
    expect(rb.log).toContain('p2 saw p1 running');
  });

  it('does not let a dead runner block its project: the stale place is dropped and its job marked failed', async () => {
    const { local, stateDir } = await setup();
    const deadPid = await exitedPid();
    // A job whose runner died after taking its place (as a SIGKILL or a reboot would leave it).
    const lost = {
      version: 1,
      id: 'app-lost',
      project: 'app',
      branch: 'main',
      state: 'running',
      ticket: '000000000001',
      createdAt: new Date().toISOString(),
    };
    mkdirSync(join(stateDir, 'jobs'), { recursive: true });
    mkdirSync(join(stateDir, 'queue', 'app'), { recursive: true });
    writeFileSync(join(stateDir, 'jobs', 'app-lost.json'), JSON.stringify(lost));
    writeFileSync(
      join(stateDir, 'queue', 'app', '000000000001'),
      JSON.stringify({ ticket: '000000000001', jobId: 'app-lost', pid: deadPid, group: true }),
    );

    const id = accepted(await local.trigger({ project: 'app', branch: 'main' }));
    const { record, log } = await followAll(local, id);

    expect(record.state).toBe('succeeded');
    expect(log).toContain(`job app-lost lost its runner (pid ${deadPid})`);
    expect(await local.show('app-lost')).toMatchObject({
      state: 'failed',
      error: `the local runner (pid ${deadPid}) stopped before the job finished`,
    });
    expect(readdirSync(join(stateDir, 'queue', 'app'))).toEqual([]);
  });

  it('ends the follow of a job whose runner was killed, recording it failed', async () => {
    const { local, out, register } = await setup();
    await register('gated', { command: './gate.sh' });
    const id = accepted(await local.trigger({ project: 'gated', branch: 'main' }));
    let killed = false;
    const record = await local.follow(id, {
      onProgress: ({ record: r }) => {
        const gatePid = join(out, 'gate.pid');
        if (killed || r.phase !== 'command' || r.runnerPid === undefined || !existsSync(gatePid)) return;
        // Never signal pid 0 (our own group) from a file caught half-written: wait for the next tick.
        const commandPid = Number(readFileSync(gatePid, 'utf8'));
        if (!Number.isInteger(commandPid) || commandPid <= 1) return;
        killed = true;
        // The runner and its worker share a process group; the command has its own.
        process.kill(-r.runnerPid, 'SIGKILL');
        process.kill(commandPid, 'SIGKILL');
      },
    });
    expect(killed).toBe(true);
    expect(record).toMatchObject({ state: 'failed', exitCode: ExitCode.internal });
    expect(record.error).toMatch(/^the local runner \(pid \d+\) stopped before the job finished$/);
  });

  it("keeps the project's place while a worker outlives its killed runner: the next job waits for its command", async () => {
    // GIVEN job A of a project, its command running
    const { local, out, register } = await setup();
    await register('held', { command: './hold.sh' });
    const a = accepted(await local.trigger({ project: 'held', branch: 'b1' }));
    await waitFor(() => existsSync(join(out, 'hold-b1.pid')));
    const runnerPid = (await local.show(a)).runnerPid ?? 0;
    expect(runnerPid).toBeGreaterThan(1);
    // WHEN only A's runner is killed (its worker and the command go on), and B is triggered
    process.kill(runnerPid, 'SIGKILL');
    await waitFor(() => !alive(runnerPid));
    const b = accepted(await local.trigger({ project: 'held', branch: 'b2' }));
    // THEN B waits behind A, still queued
    const bLog = () => (existsSync(local.logPath(b)) ? readFileSync(local.logPath(b), 'utf8') : '');
    await waitFor(() => /waiting for job|lost its runner/.test(bLog()));
    expect(bLog()).toContain(`waiting for job ${a} of the same project to finish`);
    expect((await local.show(b)).state).toBe('queued');
    // AND runs once A's command has ended
    writeFileSync(join(out, 'release'), '');
    expect((await local.follow(b)).state).toBe('succeeded');
    expect(readFileSync(join(out, 'order.txt'), 'utf8').trim().split('\n')).toEqual([
      'start b1',
      'end b1',
      'start b2',
      'end b2',
    ]);
  });

  it('stops a job on SIGTERM to its runner, recording the command as killed', async () => {
    const { local, register } = await setup();
    await register('gated', { command: './gate.sh' });
    const id = accepted(await local.trigger({ project: 'gated', branch: 'main' }));
    let stopped = false;
    const { record, log } = await (async () => {
      let text = '';
      const r = await local.follow(id, {
        onOutput: (t) => {
          text += t;
        },
        onProgress: ({ record: current }) => {
          // Once the command is waiting: the runner passes SIGTERM to the worker, which stops the command.
          if (stopped || !text.includes('waiting for the gate') || current.runnerPid === undefined) return;
          stopped = true;
          process.kill(current.runnerPid, 'SIGTERM');
        },
      });
      return { record: r, log: text };
    })();
    expect(stopped).toBe(true);
    expect(record).toMatchObject({ state: 'failed', exitCode: 143, error: 'command was killed by SIGTERM' });
    expect(log).not.toContain('gate open');
  });

  it('fails the trigger, with no job left queued, when the runner cannot start', async () => {
    const { stateDir } = await setup();
    const broken = new LocalBackend({ stateDir, runnerCommand: [join(root, 'no-such-runner')] });
    await expect(broken.trigger({ project: 'app', branch: 'main' })).rejects.toThrow(
      /^cannot start the job runner .*no-such-runner: spawn .* ENOENT$/,
    );
    const { jobs } = await broken.list();
    expect(jobs.map((j) => j.state)).toEqual(['failed']);
    expect(readdirSync(join(stateDir, 'queue', 'app'))).toEqual([]);
  });

  it("puts a crashing runner's own error in the job log, and the follower records the job failed", async () => {
    const { stateDir } = await setup();
    const crashing = new LocalBackend({
      stateDir,
      runnerCommand: [
        process.execPath,
        '-e',
        'process.stderr.write("runner exploded\\n"); process.exit(3)',
        '--',
      ],
    });
    const id = accepted(await crashing.trigger({ project: 'app', branch: 'main' }));
    const { record, log } = await followAll(crashing, id);
    expect(record.state).toBe('failed');
    expect(record.error).toMatch(/stopped before the job finished/);
    expect(log).toContain('runner exploded');
  });

  it('starts one job for one idempotency token', async () => {
    const { local } = await setup();
    const a = accepted(
      await local.trigger({ project: 'app', branch: 'main' }, { idempotencyToken: 'delivery-1' }),
    );
    const b = accepted(
      await local.trigger({ project: 'app', branch: 'main' }, { idempotencyToken: 'delivery-1' }),
    );
    expect(b).toBe(a);
    await local.follow(a);
    expect((await local.list()).jobs).toHaveLength(1);
  });
});

function exitedPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(child.pid as number));
  });
}

/** Polls a condition every 20 ms, failing after 20 s: each wait here ends on an event, not a delay. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - started > 20_000) throw new Error(`timed out waiting for ${condition}`);
  }
}

/** Whether a process exists (a zombie counts: it still holds its pid until reaped). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
