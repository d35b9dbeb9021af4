/** `projects put --deploy-role`: the project's deploy role, checked before anything is stored. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCliInProcess } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'iwomp-deploy-role-flag-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const put = (dir: string, role: string) =>
  runCliInProcess(
    [
      'projects',
      'put',
      'web',
      '--git-url',
      'https://github.com/acme/web.git',
      '--command',
      'make',
      '--deploy-role',
      role,
    ],
    { env: { IWOMP_REGISTRY: `file:${dir}` }, cwd: root },
  );

describe('projects put --deploy-role', () => {
  it('stores a deploy role on /iwomp-deploy/ in deployRole', async () => {
    // GIVEN / WHEN
    const dir = join(root, 'ok');
    const run = await put(dir, 'arn:aws:iam::123456789012:role/iwomp-deploy/web-deploy');
    // THEN
    expect(run.code).toBe(CliExitCode.ok);
    expect(JSON.parse(readFileSync(join(dir, 'web.json'), 'utf8')).deployRole).toBe(
      'arn:aws:iam::123456789012:role/iwomp-deploy/web-deploy',
    );
  });

  it('refuses any other role with one line, and stores nothing', async () => {
    // GIVEN / WHEN an administrator's role is named
    const dir = join(root, 'refused');
    const run = await put(dir, 'arn:aws:iam::123456789012:role/Admin');
    // THEN
    expect(run.code).toBe(CliExitCode.invalidInput);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/deployRole: the role must be on the path \/iwomp-deploy\//);
    expect(existsSync(join(dir, 'web.json'))).toBe(false);
  });
});
