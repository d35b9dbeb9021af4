import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import type { JobRecord } from '../../src/core/job-record.js';
import { runCliInProcess } from '../support/cli.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cli-git-reason-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('a failed fetch reports git’s own reason', () => {
  it('a missing repository: the "does not appear to be a git repository" line, in the output and the job record', async () => {
    // GIVEN a project whose gitUrl names a directory that is not there
    const cwd = join(root, 'case');
    mkdirSync(cwd, { recursive: true });
    const missing = join(root, 'no-such-repo.git');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
    const cli = (argv: readonly string[]) => runCliInProcess(argv, { env, cwd });
    const put = await cli([
      'projects',
      'put',
      'app',
      '--local',
      '--git-url',
      `file://${missing}`,
      '--command',
      './deploy.sh',
    ]);
    expect(put).toMatchObject({ code: 0, stderr: '' });

    // WHEN it is triggered and followed
    const run = await cli(['trigger', 'app', 'main', '--local', '--wait', '--no-commit']);

    // THEN the failure names git's first fatal line, not the tail of its advice text
    expect(run.code).toBe(CliExitCode.failed);
    expect(run.stderr).toMatch(/^» app main · failed \(exit 83\)/m);
    const reason = `git fetch of file://${missing} failed (exit 128): '${missing}' does not appear to be a git repository`;
    expect(run.stderr).toContain(`iwomp: ${reason}\n`);
    expect(run.stderr).not.toMatch(/failed \(exit 128\): and the repository exists/);
    // AND the job record carries the same line
    const id = run.stdout.trim();
    const show = JSON.parse((await cli(['jobs', 'show', id, '--json'])).stdout) as JobRecord;
    expect(show.error).toContain(reason);
  });
});
