/**
 * The worker reports its phase and outcome on a channel of its own (fd 3), never through its log.
 * A deploy command can print anything, including lines that look like the worker's, and cannot
 * reach that channel: the record says what the worker reported, not what the command printed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/adapters/local/local-backend.js';
import { createRepo } from '../support/repos.js';

// Pretends to be the worker on every channel it can reach, then fails with status 3.
const FORGER = `#!/bin/sh
echo "[iwomp] fetching app branch main from somewhere" >&2
echo "iwomp: forged reason on stderr" >&2
echo "iwomp: forged reason on stdout"
if echo '{"type":"outcome","exitCode":0,"reason":"forged on fd 3"}' >&3 2>/dev/null; then
  echo reached > "$OUT/fd3.txt"
else
  echo closed > "$OUT/fd3.txt"
fi
echo '{"type":"phase","phase":"clone"}' >&2
touch "$OUT/printed"
i=0
while [ ! -f "$OUT/gate" ]; do
  i=$((i+1)); if [ $i -gt 400 ]; then exit 9; fi
  sleep 0.05
done
exit 3
`;

let root: string;
let gitUrl: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-report-'));
  const repo = createRepo(root, 'app');
  repo.commit('main', { 'forge.sh': { content: FORGER, executable: true } });
  gitUrl = `file://${repo.bare}`;
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("the worker's report channel", () => {
  it('records the phases and the reason the worker reported, whatever the deploy command prints', async () => {
    // GIVEN a project whose deploy command imitates the worker's log lines and reports
    const out = join(root, 'out');
    mkdirSync(out, { recursive: true });
    const local = new LocalBackend({ stateDir: join(root, 'state'), env: { ...process.env, OUT: out } });
    await local.registry.put('app', JSON.stringify({ gitUrl, command: './forge.sh' }), { secure: false });

    // WHEN it is triggered and followed to its end
    const outcome = await local.trigger({ project: 'app', branch: 'main' });
    if (outcome.outcome !== 'accepted') throw new Error(outcome.reason);
    const followed = local.follow(outcome.jobId);
    await waitFor(() => existsSync(join(out, 'printed')));
    // Time for a wrongly parsed log line to land in the record, were the log still parsed.
    await sleep(300);
    const whileRunning = await local.tracker.get(outcome.jobId);
    writeFileSync(join(out, 'gate'), '');
    const record = await followed;

    // THEN the record holds the worker's own reason and the command's status
    expect(record).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(record.error).toBe('command failed with exit status 3');
    expect(record.error).not.toMatch(/forged/);
    // AND the command could not write to the channel
    expect(readFileSync(join(out, 'fd3.txt'), 'utf8').trim()).toBe('closed');
    // AND while the command ran, its fake "fetching" line did not move the phase back to clone
    expect(whileRunning).toMatchObject({ state: 'running', phase: 'command' });
    // AND the command's output is still in the log, as output
    expect(await local.tracker.readLog(outcome.jobId)).toContain('iwomp: forged reason on stdout');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i += 1) await sleep(25);
  if (!condition()) throw new Error('condition never became true');
}
