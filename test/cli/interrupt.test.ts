import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/core/job-record.js';
import { CLI_BUNDLE, runCliInProcess } from '../support/cli.js';
import { createRepo } from '../support/repos.js';

// Waits until the test opens the gate (bounded: never hangs).
const GATE = `#!/bin/sh
echo "waiting for the gate"
i=0
while [ ! -f "$OUT/gate" ]; do
  i=$((i+1)); if [ $i -gt 600 ]; then echo "gate never opened"; exit 9; fi
  sleep 0.05
done
echo "gate open"
`;

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cli-interrupt-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('Ctrl-C during trigger --local --wait', () => {
  it('stops following, says the job goes on and how to follow or stop it, exits 130; the job finishes', async () => {
    // GIVEN a project whose deploy waits for a gate, and a CLI following its job in a terminal's
    // foreground process group of its own
    const repo = createRepo(root, 'gated');
    repo.commit('main', { 'gate.sh': { content: GATE, executable: true } });
    const cwd = join(root, 'case');
    const out = join(cwd, 'out');
    mkdirSync(out, { recursive: true });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', OUT: out };
    const cli = (argv: readonly string[]) => runCliInProcess(argv, { env, cwd });
    expect(
      await cli([
        'projects',
        'put',
        'gated',
        '--local',
        '--git-url',
        `file://${repo.bare}`,
        '--command',
        './gate.sh',
      ]),
    ).toMatchObject({ code: 0, stderr: '' });

    const child = spawn(
      process.execPath,
      [CLI_BUNDLE, 'trigger', 'gated', 'main', '--local', '--wait', '--no-commit'],
      {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    for (let i = 0; i < 400 && !stderr.includes('waiting for the gate'); i++) await sleep(25);
    expect(stderr).toContain('waiting for the gate');

    // WHEN Ctrl-C reaches the CLI's process group
    process.kill(-(child.pid ?? 0), 'SIGINT');
    const { code } = await exited;

    // THEN the CLI says the job goes on, how to follow it and how to stop it, and exits 130
    const id = stdout.trim();
    expect(id).toMatch(/^gated-\d{8}T\d{6}-[0-9a-f]{6}$/);
    expect(code).toBe(130);
    expect(stderr).toMatch(
      new RegExp(
        `\\niwomp: stopped following job ${id}; it goes on\\. Follow it: iwomp jobs logs ${id} --follow; stop it: iwomp jobs cancel ${id}\\n$`,
      ),
    );
    // AND the job still runs, and finishes once its command does
    const show = JSON.parse((await cli(['jobs', 'show', id, '--json'])).stdout) as JobRecord;
    expect(show.state).toBe('running');
    writeFileSync(join(out, 'gate'), '');
    const follow = await cli(['jobs', 'logs', id, '--follow']);
    expect(follow.stdout).toContain('gate open\n');
    const end = JSON.parse((await cli(['jobs', 'show', id, '--json'])).stdout) as JobRecord;
    expect(end).toMatchObject({ state: 'succeeded', exitCode: 0 });
    expect(existsSync(join(out, 'gate'))).toBe(true);
    expect(readFileSync(join(cwd, '.iwomp', 'jobs', `${id}.log`), 'utf8')).toContain('gate open');
  });
});
