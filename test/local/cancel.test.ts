/** `iwomp jobs cancel`: a waiting job never starts, a running one is stopped, both recorded cancelled. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/adapters/local/local-backend.js';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCliInProcess } from '../support/cli.js';
import { createRepo } from '../support/repos.js';

// Records its start, waits for the gate (bounded), records its end.
const GATED = `#!/bin/sh
echo "start $$" >> "$OUT/order.txt"
i=0
while [ ! -f "$OUT/gate" ]; do
  i=$((i+1)); if [ $i -gt 600 ]; then exit 9; fi
  sleep 0.05
done
echo "end $$" >> "$OUT/order.txt"
`;

let root: string;
let gitUrl: string;
let counter = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cancel-'));
  const repo = createRepo(root, 'app');
  repo.commit('main', { 'gated.sh': { content: GATED, executable: true } });
  gitUrl = `file://${repo.bare}`;
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function setup() {
  counter += 1;
  const out = join(root, `case-${counter}`);
  mkdirSync(out);
  const stateDir = join(out, 'state');
  const local = new LocalBackend({ stateDir, env: { ...process.env, OUT: out } });
  await local.registry.put('app', JSON.stringify({ gitUrl, command: './gated.sh' }), { secure: false });
  const trigger = async () => {
    const outcome = await local.trigger({ project: 'app', branch: 'main' });
    if (outcome.outcome !== 'accepted') throw new Error(outcome.reason);
    return outcome.jobId;
  };
  const cancel = (id: string) =>
    runCliInProcess(['jobs', 'cancel', id], { env: { IWOMP_STATE_DIR: stateDir } });
  const lines = () =>
    existsSync(join(out, 'order.txt')) ? readFileSync(join(out, 'order.txt'), 'utf8').trim().split('\n') : [];
  return { out, local, trigger, cancel, lines };
}

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('iwomp jobs cancel', () => {
  it('stops a running job: its deploy command gets SIGTERM and the record says cancelled', async () => {
    // GIVEN a job whose deploy command runs
    const { local, trigger, cancel, lines } = await setup();
    const id = await trigger();
    await until('the command runs', () => lines().length === 1);
    // WHEN it is cancelled
    const run = await cancel(id);
    // THEN the command never reached its end, and the record says who stopped it
    expect(run.code).toBe(CliExitCode.ok);
    expect(run.stdout).toBe(`cancelled job ${id} (it was running)\n`);
    expect(lines()).toHaveLength(1);
    const record = await local.show(id);
    expect(record.state).toBe('cancelled');
    expect(record.error).toMatch(/^cancelled with iwomp jobs cancel \(pid \d+\)$/);
  });

  it('stops a waiting job before it starts, and leaves the running one alone', async () => {
    // GIVEN job A running and job B waiting behind it
    const { out, local, trigger, cancel, lines } = await setup();
    const a = await trigger();
    await until('A runs', () => lines().length === 1);
    const b = await trigger();
    await until(
      'B waits',
      async () => (await local.show(b)).state === 'queued' && existsSync(local.logPath(b)),
    );
    // WHEN B is cancelled, then A's gate opens
    const run = await cancel(b);
    writeFileSync(join(out, 'gate'), '');
    const endA = await local.follow(a);
    // THEN B never ran, and A finished as usual
    expect(run.stdout).toBe(`cancelled job ${b} (it was queued)\n`);
    expect((await local.show(b)).state).toBe('cancelled');
    expect(endA.state).toBe('succeeded');
    expect(lines().map((l) => l.split(' ')[0])).toEqual(['start', 'end']);
  });

  it('says so, and changes nothing, for a job that has ended', async () => {
    // GIVEN a finished job
    const { out, local, trigger, cancel } = await setup();
    writeFileSync(join(out, 'gate'), '');
    const id = await trigger();
    await local.follow(id);
    // WHEN / THEN
    const run = await cancel(id);
    expect(run.code).toBe(CliExitCode.ok);
    expect(run.stdout).toBe(`job ${id} had already ended: succeeded\n`);
    expect((await local.show(id)).state).toBe('succeeded');
  });

  it('is "not found" (exit 4) for an unknown job', async () => {
    // GIVEN / WHEN
    const { cancel } = await setup();
    const run = await cancel('app-20260101T000000-000000');
    // THEN
    expect(run.code).toBe(CliExitCode.notFound);
    expect(run.stderr).toMatch(/no local job 'app-20260101T000000-000000'/);
  });
});
