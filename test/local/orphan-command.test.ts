/**
 * One deploy at a time per project, even when the processes that run a deploy are killed: the
 * deploy command runs in its own process group, so it can outlive its worker and its runner.
 * While it runs, its project stays held, and its record says what is known.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/adapters/local/local-backend.js';
import { createRepo } from '../support/repos.js';

// Logs its start and end, and waits for the test to open the gate (bounded: never hangs).
const GATED = `#!/bin/sh
echo "start" >> "$OUT/order.txt"
touch "$OUT/started-$$"
i=0
while [ ! -f "$OUT/gate" ]; do
  i=$((i+1)); if [ $i -gt 600 ]; then exit 9; fi
  sleep 0.05
done
echo "end" >> "$OUT/order.txt"
`;

let root: string;
let gitUrl: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-orphan-'));
  const repo = createRepo(root, 'app');
  repo.commit('main', { 'gated.sh': { content: GATED, executable: true } });
  gitUrl = `file://${repo.bare}`;
});

afterAll(() => {
  writeFileSync(join(root, 'gate'), '');
  rmSync(root, { recursive: true, force: true });
});

async function setup(name: string) {
  const out = join(root, name);
  mkdirSync(out);
  const local = new LocalBackend({ stateDir: join(out, 'state'), env: { ...process.env, OUT: out } });
  await local.registry.put('app', JSON.stringify({ gitUrl, command: './gated.sh' }), { secure: false });
  const trigger = async () => {
    const outcome = await local.trigger({ project: 'app', branch: 'main' });
    if (outcome.outcome !== 'accepted') throw new Error(outcome.reason);
    return outcome.jobId;
  };
  return { out, local, trigger };
}

/** Triggers a job and waits until its deploy command runs: the record then holds every process. */
async function startUntilCommand(local: LocalBackend, trigger: () => Promise<string>, out: string) {
  const id = await trigger();
  await until('the job runs its command', async () => {
    const r = await local.show(id);
    return r.phase === 'command' && r.commandPid !== undefined && order(out).length === 1;
  });
  return { id, running: await local.show(id) };
}

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function order(out: string): string[] {
  return existsSync(join(out, 'order.txt'))
    ? readFileSync(join(out, 'order.txt'), 'utf8').trim().split('\n')
    : [];
}

describe('a deploy command that outlives the processes that started it', () => {
  it('holds its project after its worker is killed, and its record says the outcome is unknown', async () => {
    // GIVEN job A's deploy command running
    const { out, local, trigger } = await setup('worker-killed');
    const { id: a, running } = await startUntilCommand(local, trigger, out);

    // WHEN its worker is killed, and job B is triggered for the same project
    process.kill(running.workerPid as number, 'SIGKILL');
    const b = await trigger();
    await sleep(1000);

    // THEN B waits: A's command still holds the project, and A is not over
    expect(order(out)).toEqual(['start']);
    expect((await local.show(b)).state).toBe('queued');
    expect((await local.show(a)).state).toBe('running');

    // WHEN A's command ends
    writeFileSync(join(out, 'gate'), '');
    const endB = await local.follow(b);
    const endA = await local.show(a);

    // THEN B ran only after A's command ended, and A's record tells what is known
    expect(order(out)).toEqual(['start', 'end', 'start', 'end']);
    expect(endB.state).toBe('succeeded');
    expect(endA).toMatchObject({ state: 'failed', exitCode: 137 });
    expect(endA.error).toMatch(
      /^the worker stopped \(exit 137\) before the deploy command ended; .*outcome is unknown$/,
    );
  });

  it('holds its project after its runner and worker are killed, and is then recorded failed, not running forever', async () => {
    // GIVEN job A's deploy command running
    const { out, local, trigger } = await setup('runner-killed');
    const { id: a, running } = await startUntilCommand(local, trigger, out);

    // WHEN its runner's whole group (runner and worker) is killed, and B is triggered
    process.kill(-(running.runnerPid as number), 'SIGKILL');
    const b = await trigger();
    await sleep(1000);

    // THEN B waits while A's command runs, and A still shows as running (it is)
    expect(order(out)).toEqual(['start']);
    expect((await local.show(b)).state).toBe('queued');
    expect((await local.show(a)).state).toBe('running');

    // WHEN A's command ends
    writeFileSync(join(out, 'gate'), '');
    await local.follow(b);

    // THEN B ran after it, and A, whose runner is gone, is recorded failed when next looked at
    expect(order(out)).toEqual(['start', 'end', 'start', 'end']);
    const endA = (await local.list()).jobs.find((j) => j.id === a);
    expect(endA).toMatchObject({ state: 'failed', exitCode: 85 });
    expect(endA?.error).toMatch(/stopped before the job finished/);
  });
});
