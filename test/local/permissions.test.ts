import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/adapters/local/local-backend.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo } from '../support/repos.js';

const TOKEN = 'tok-perms-4e1a7c93b2';

let root: string;
let server: GitServer;
let umask: number;

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** Every file below `dir`, recursively, with its mode. */
function fileModes(dir: string): Record<string, string> {
  const modes: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      modes[join(entry.parentPath, entry.name).slice(dir.length + 1)] = mode(
        join(entry.parentPath, entry.name),
      );
  }
  return modes;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-perms-'));
  createRepo(root, 'app').commit('main', {
    // Reports the mode of the job's work directory while the job runs.
    'deploy.sh': {
      content:
        '#!/bin/sh\n# The job\'s work directory: the worker clones into <work dir>/iwomp-<project>-*/src.\nstat -c %a "$(cd ../.. && pwd)" > "$OUT/work-mode"\n',
      executable: true,
    },
  });
  server = await startGitServer(root, { kind: 'token', token: TOKEN });
  // The most permissive umask: every mode below comes from the code, none from the umask.
  umask = process.umask(0);
});

afterAll(async () => {
  process.umask(umask);
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('local state permissions', () => {
  it('keeps job records, logs, queue entries, tokens and work directories private (0600 files in 0700 directories), tightening directories an older version left open', async () => {
    // GIVEN a state directory whose jobs/, queue/, tokens/ and work/ an older version made 0755
    const stateDir = join(root, 'state');
    const out = join(root, 'out');
    mkdirSync(out);
    for (const dir of ['jobs', 'queue', 'tokens', 'work']) {
      mkdirSync(join(stateDir, dir), { recursive: true });
      chmodSync(join(stateDir, dir), 0o755);
    }
    const local = new LocalBackend({ stateDir, env: { ...process.env, OUT: out } });
    await local.registry.put(
      'app',
      JSON.stringify({ gitUrl: server.url('app.git'), authToken: TOKEN, command: './deploy.sh' }),
      { secure: true },
    );

    // WHEN a trigger with an idempotency token runs to its end
    const outcome = await local.trigger({ project: 'app', branch: 'main' }, { idempotencyToken: 'ci-run-1' });
    if (outcome.outcome !== 'accepted') throw new Error(outcome.reason);
    const record = await local.follow(outcome.jobId);

    // THEN the directories are 0700, the job's work directory was too, and every file is 0600
    expect(record.state).toBe('succeeded');
    for (const dir of ['jobs', 'queue', 'tokens', 'work'])
      expect([dir, mode(join(stateDir, dir))]).toEqual([dir, '700']);
    expect(readFileSync(join(out, 'work-mode'), 'utf8').trim()).toBe('700');
    const files = { ...fileModes(join(stateDir, 'jobs')), ...fileModes(join(stateDir, 'tokens')) };
    expect(Object.keys(files).sort()).toEqual(
      [`${outcome.jobId}.json`, `${outcome.jobId}.log`, expect.stringMatching(/^[0-9a-f]{64}$/)].sort(),
    );
    expect(Object.values(files).every((m) => m === '600')).toBe(true);
  });

  it('writes queue entries 0600 in a 0700 queue', async () => {
    // GIVEN a state directory with no queue yet
    const stateDir = join(root, 'state-queue');
    const local = new LocalBackend({ stateDir, env: { ...process.env, OUT: join(root, 'out') } });
    // WHEN a job is queued (its entry stays until its runner ends it)
    await local.registry.put(
      'app',
      JSON.stringify({ gitUrl: server.url('app.git'), authToken: TOKEN, command: './deploy.sh' }),
      { secure: true },
    );
    const outcome = await local.trigger({ project: 'app', branch: 'main' });
    if (outcome.outcome !== 'accepted') throw new Error(outcome.reason);
    const entries = fileModes(join(stateDir, 'queue'));
    await local.follow(outcome.jobId);
    // THEN its entry was private
    expect(Object.keys(entries)).toHaveLength(1);
    expect(Object.values(entries)).toEqual(['600']);
    expect(mode(join(stateDir, 'queue'))).toBe('700');
  });
});
