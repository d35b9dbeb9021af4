import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CommandError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { Redactor } from '../../src/core/redact.js';
import { StopReason } from '../../src/worker/process-group.js';
import { DEADLINE_EXIT_STATUS, runCommand } from '../../src/worker/run-command.js';
import { jobDeadline } from '../../src/worker/run-worker.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { findProcesses, isAlive, killAll } from '../support/proc-scan.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess } from '../support/worker-process.js';

// Hostile or broken git servers on loopback, and a deploy command that outlives its deadline.
const TOKEN = 'tok-deadline-2f7c9a41e8';

let root: string;
let registry: string;
let silent: Server;
let silentSockets: Socket[];
let silentUrl: string;
let trickle: HttpServer;
let trickleUrl: string;
let gitServer: GitServer;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function register(project: string, doc: Record<string, unknown>): void {
  writeFileSync(
    join(registry, `${project}.json`),
    JSON.stringify({ authToken: TOKEN, command: 'true', ...doc }),
  );
}

/** A fresh work root per test, so "the work directory is gone" is checked on that test's alone. */
function workRoot(name: string): string {
  const dir = join(root, 'work', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function run(project: string, env: Record<string, string>, onSpawn?: (pid: number) => void) {
  return runWorkerProcess(
    { IWOMP_REGISTRY: `file:${registry}`, PROJECTNAME: project, GITBRANCH: 'main', ...env },
    onSpawn ? { onSpawn } : {},
  );
}

/** What a test may leave behind if the behaviour under test breaks: every process holding the token. */
function leftovers() {
  return findProcesses({ environMark: TOKEN, cmdlineMark: root });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-deadlines-'));
  registry = join(root, 'registry');
  mkdirSync(registry);

  // Accepts every connection and never says a word.
  silentSockets = [];
  silent = createServer((socket) => {
    silentSockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/app.git`;

  // Answers the ref advertisement with a valid, endless list of refs, fast enough for curl's
  // low-speed limit: only the worker's own deadline can end this fetch.
  trickle = createHttpServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' });
    const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    res.write(`${pkt('# service=git-upload-pack\n')}0000`);
    res.write(pkt(`${'a'.repeat(40)} HEAD\0multi_ack side-band-64k ofs-delta shallow\n`));
    let n = 0;
    const timer = setInterval(() => {
      let chunk = '';
      for (let i = 0; i < 40; i++)
        chunk += pkt(`${'a'.repeat(40)} refs/heads/b${String(n++).padStart(8, '0')}\n`);
      res.write(chunk);
    }, 100);
    req.socket.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
  trickleUrl = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}/app.git`;

  const repo = createRepo(root, 'app');
  repo.commit('main', {
    // Starts a background child, then waits itself: both must be gone after the deadline.
    // Leaves a child that ignores SIGTERM and does not hold the output open, then waits.
    'leave-child.sh': {
      content: `#!/bin/sh
(trap '' TERM; exec sleep 300) >/dev/null 2>&1 &
echo $! > "$TEST_OUT_DIR/child.pid"
sleep 300
`,
      executable: true,
    },
    'deploy.sh': {
      content: `#!/bin/sh
sleep 300 &
echo $! > "$TEST_OUT_DIR/child.pid"
echo $$ > "$TEST_OUT_DIR/script.pid"
sleep 300
`,
      executable: true,
    },
  });
  gitServer = await startGitServer(root, { kind: 'token', token: TOKEN });
});

// Should a test fail, nothing it started outlives it: git helpers, workers, deploy commands.
afterEach(() => killAll([...leftovers(), ...findProcesses({ environMark: root })]));

afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  trickle.closeAllConnections();
  await new Promise((resolve) => trickle.close(resolve));
  await gitServer.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('fetch deadline', () => {
  it('gives up on a server that accepts and never answers within the fetch deadline: no git left, no work dir', async () => {
    // GIVEN a project on a server that never answers, and a fetch deadline of 4 s
    register('silent', { gitUrl: silentUrl });
    const work = workRoot('silent');
    // WHEN the worker runs
    const started = Date.now();
    const result = await run('silent', { IWOMP_WORKDIR: work, IWOMP_FETCH_TIMEOUT: '4' });
    const seconds = (Date.now() - started) / 1000;
    // THEN it fails as a clone failure, in one line, within the deadline, and leaves nothing behind
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(
      /^iwomp: git fetch of http:\/\/127\.0\.0\.1:\d+\/app\.git failed .*too slow/m,
    );
    // Slack for starting node and the worker on a busy machine, not for the fetch.
    expect(seconds).toBeLessThan(4 + 3);
    expect(leftovers()).toEqual([]);
    expect(readdirSync(work)).toEqual([]);
  });

  it('kills a fetch that never ends at the fetch deadline (a server trickling an endless answer)', async () => {
    // GIVEN a project on a server that answers fast enough for curl, forever
    register('trickle', { gitUrl: trickleUrl });
    const work = workRoot('trickle');
    // WHEN the worker runs with a fetch deadline of 3 s
    const started = Date.now();
    const result = await run('trickle', { IWOMP_WORKDIR: work, IWOMP_FETCH_TIMEOUT: '3' });
    const seconds = (Date.now() - started) / 1000;
    // THEN the worker stopped git at its deadline and said why
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(
      /^iwomp: git fetch stopped: the fetch from http:\/\/127\.0\.0\.1:\d+\/app\.git did not end within 3s \(IWOMP_FETCH_TIMEOUT\)$/m,
    );
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(3 + 3);
    expect(leftovers()).toEqual([]);
    expect(readdirSync(work)).toEqual([]);
  }, 20_000);

  it('the job deadline stops a fetch too, as a clone failure', async () => {
    // GIVEN a silent server, a long fetch deadline and a job deadline of 2 s
    register('silent-job', { gitUrl: silentUrl });
    const work = workRoot('silent-job');
    // WHEN the worker runs
    const result = await run('silent-job', {
      IWOMP_WORKDIR: work,
      IWOMP_FETCH_TIMEOUT: '120',
      IWOMP_JOB_TIMEOUT: '2',
    });
    // THEN the job deadline ended it
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(
      /^iwomp: git fetch stopped: the job deadline of 2s \(IWOMP_JOB_TIMEOUT\) passed$/m,
    );
    expect(leftovers()).toEqual([]);
    expect(readdirSync(work)).toEqual([]);
  }, 20_000);
});

describe('SIGTERM', () => {
  it('during the fetch: kills git-remote-http (it holds the token), removes the work directory, one line', async () => {
    // GIVEN a worker hanging in a fetch from a silent server, with git-remote-http running
    register('stuck', { gitUrl: silentUrl });
    const work = workRoot('stuck');
    let pid = 0;
    const running = run('stuck', { IWOMP_WORKDIR: work, IWOMP_FETCH_TIMEOUT: '120' }, (p) => {
      pid = p;
    });
    const deadline = Date.now() + 10_000;
    while (!leftovers().some((p) => p.cmdline.includes('remote-http')) && Date.now() < deadline)
      await sleep(50);
    expect(leftovers().some((p) => p.cmdline.includes('remote-http'))).toBe(true);
    expect(readdirSync(work)).toHaveLength(1);

    // WHEN the worker gets SIGTERM (how CodeBuild stops a build)
    process.kill(pid, 'SIGTERM');
    const result = await running;

    // THEN no process holds the token, no git-remote-http of this test runs, the work dir is gone
    expect(leftovers()).toEqual([]);
    expect(findProcesses({ cmdlineMark: silentUrl })).toEqual([]);
    expect(readdirSync(work)).toEqual([]);
    expect(result.code).toBe(ExitCode.cloneFailed);
    expect(result.stderr).toMatch(/^iwomp: git fetch stopped: the worker received SIGTERM$/m);
  }, 20_000);
});

describe('SIGTERM during the command', () => {
  it("kills what is left of the command's process group once the command has ended", async () => {
    // GIVEN a command that left a child ignoring SIGTERM, and waits
    register('leaver', { gitUrl: gitServer.url('app.git'), command: './leave-child.sh' });
    const out = join(root, 'leaver-out');
    mkdirSync(out);
    let pid = 0;
    const running = run('leaver', { IWOMP_WORKDIR: workRoot('leaver'), TEST_OUT_DIR: out }, (p) => {
      pid = p;
    });
    const pidFile = join(out, 'child.pid');
    const until = Date.now() + 10_000;
    while (!(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '') && Date.now() < until)
      await sleep(20);
    const child = Number(readFileSync(pidFile, 'utf8'));
    onTestFinished(() => killAll([{ pid: child, cmdline: '' }]));
    // WHEN the worker gets SIGTERM
    process.kill(pid, 'SIGTERM');
    const result = await running;
    // THEN the command was killed by it, and its child did not outlive it
    expect(result.code).toBe(128 + 15);
    expect(result.stderr).toMatch(/^iwomp: command was killed by SIGTERM$/m);
    expect(isAlive(child)).toBe(false);
  }, 20_000);
});

describe('job deadline', () => {
  it('kills a command that sleeps past the deadline, with its children, exit 124 and one line', async () => {
    // GIVEN a deploy command that starts a background child and sleeps, and a job deadline of 3 s
    register('sleepy', { gitUrl: gitServer.url('app.git'), command: './deploy.sh' });
    const work = workRoot('sleepy');
    const out = join(root, 'sleepy-out');
    mkdirSync(out);
    // WHEN the worker runs
    const started = Date.now();
    const result = await run('sleepy', { IWOMP_WORKDIR: work, IWOMP_JOB_TIMEOUT: '3', TEST_OUT_DIR: out });
    const seconds = (Date.now() - started) / 1000;
    // THEN the command and its child are gone, and the job failed as timeout(1) reports it
    const child = Number(readFileSync(join(out, 'child.pid'), 'utf8'));
    const script = Number(readFileSync(join(out, 'script.pid'), 'utf8'));
    expect(isAlive(child)).toBe(false);
    expect(isAlive(script)).toBe(false);
    expect(result.code).toBe(DEADLINE_EXIT_STATUS);
    expect(result.stderr).toMatch(
      /^iwomp: command stopped: the job deadline of 3s \(IWOMP_JOB_TIMEOUT\) passed$/m,
    );
    expect(seconds).toBeLessThan(3 + 4);
    expect(readdirSync(work)).toEqual([]);
  }, 20_000);

  it("kills with SIGKILL, after the grace period, what ignores the deadline's SIGTERM", async () => {
    // GIVEN a command whose child ignores SIGTERM
    const out = join(root, 'stubborn');
    mkdirSync(out);
    const stop = new AbortController();
    const sink = new PassThrough().resume();
    const running = runCommand({
      argv: ['sh', '-c', `(trap '' TERM; echo $(exec sh -c 'echo $PPID'); sleep 300) > "${out}/pid" & wait`],
      cwd: out,
      env: process.env,
      redactor: new Redactor([]),
      stdout: sink,
      stderr: sink,
      signal: stop.signal,
      graceMs: 500,
    });
    const deadline = Date.now() + 5000;
    while (!(existsSync(join(out, 'pid')) && readFileSync(join(out, 'pid'), 'utf8').trim() !== '')) {
      if (Date.now() > deadline) throw new Error('the command did not start');
      await sleep(20);
    }
    const stubborn = Number(readFileSync(join(out, 'pid'), 'utf8'));
    onTestFinished(() => killAll([{ pid: stubborn, cmdline: '' }]));
    // WHEN the deadline passes
    stop.abort(new StopReason('the job deadline of 1 minute (timeoutMinutes) passed', true));
    // THEN the command ends as a deadline failure, and the child that ignored SIGTERM is dead
    const error = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).exitCode).toBe(124);
    expect((error as CommandError).message).toBe(
      'command stopped: the job deadline of 1 minute (timeoutMinutes) passed',
    );
    // SIGKILL is delivered when the kernel next schedules the process: on a loaded machine it can
    // still be seen for a moment. One that was never sent SIGKILL sleeps 300 s, far past this.
    const dead = Date.now() + 2000;
    while (isAlive(stubborn) && Date.now() < dead) await sleep(20);
    expect(isAlive(stubborn)).toBe(false);
  });

  it('comes from timeoutMinutes when the project sets it, else from IWOMP_JOB_TIMEOUT, else there is none', () => {
    expect(jobDeadline(30, 5)).toEqual({
      seconds: 1800,
      reason: 'the job deadline of 30 minutes (timeoutMinutes) passed',
    });
    expect(jobDeadline(undefined, 5)).toEqual({
      seconds: 5,
      reason: 'the job deadline of 5s (IWOMP_JOB_TIMEOUT) passed',
    });
    expect(jobDeadline(undefined, undefined)).toBeUndefined();
  });
});
