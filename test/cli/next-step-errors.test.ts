import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { describeJsonSyntaxError } from '../../src/core/json-syntax.js';
import { runCliInProcess, runCliProcess } from '../support/cli.js';
import { createRepo } from '../support/repos.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-cli-next-step-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('errors that say what to do next', () => {
  it.each([
    [['projects', 'list'], 'cannot list /iwomp-in-aws in SSM: Error: Region is missing'],
    [['trigger', 'demo', 'main', '--no-commit'], "cannot describe stack 'iwomp': Error: Region is missing"],
  ])('%j without a region says to set AWS_REGION or use --local', async (argv, failure) => {
    // GIVEN no region anywhere: no AWS_REGION, and a HOME without an AWS profile
    const home = join(root, `home-${argv[0]}`);
    mkdirSync(home, { recursive: true });
    // WHEN the built CLI makes an AWS call
    const run = await runCliProcess(argv, {
      env: { HOME: home, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      cwd: home,
    });
    // THEN one line names the cause and the two ways out
    expect(run.stderr).toBe(
      `iwomp: ${failure}: set AWS_REGION (or a region in your AWS profile), or use --local for the local backend\n`,
    );
    expect(run.code).not.toBe(0);
  });

  it('a document that is not JSON: the line and column, and none of its text', async () => {
    // GIVEN a document with a bare word where a string should be, on its second line
    const doc = '{\n  "gitUrl": "https://github.com/me/app.git", "authToken": hunter2-secret-value\n}';
    // WHEN
    const run = await runCliInProcess(['projects', 'put', 'app', '--local', '--file', '-', '--dry-run'], {
      stdin: doc,
      cwd: root,
    });
    // THEN
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('iwomp: stdin is not valid JSON: line 2, column 59: Unexpected character "h"\n');
  });

  it.each([
    ['{"gitUrl": "x",\n "command": "./d.sh",\n}', 'line 3, column 1: Expected double-quoted property name'],
    ['{"gitUrl": "x"', "line 1, column 15: Expected ',' or '}' after property value"],
    ['', 'line 1, column 1: Unexpected end of JSON input'],
    ['{\n\n  "a": [1 2]}', "line 3, column 11: Expected ',' or ']' after array element"],
    ['{"a": "x\ny"}', 'line 1, column 9: Bad control character in string literal'],
  ])('locates the JSON error in %j', (text, expected) => {
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      error = e;
    }
    expect(describeJsonSyntaxError(text, error)).toBe(expected);
  });

  it('a deploy script without its executable bit: says chmod +x, and the job fails with 126', async () => {
    // GIVEN a repository whose deploy.sh was committed without the executable bit
    const repo = createRepo(root, 'noexec');
    repo.commit('main', { 'deploy.sh': { content: '#!/bin/sh\necho deployed\n', executable: false } });
    const cwd = join(root, 'noexec-case');
    mkdirSync(cwd, { recursive: true });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
    const cli = (argv: readonly string[]) => runCliInProcess(argv, { env, cwd });
    const put = await cli([
      'projects',
      'put',
      'noexec',
      '--local',
      '--git-url',
      `file://${repo.bare}`,
      '--command',
      './deploy.sh',
    ]);
    expect(put).toMatchObject({ code: 0, stderr: '' });
    // WHEN
    const run = await cli(['trigger', 'noexec', 'main', '--local', '--wait', '--no-commit']);
    // THEN
    expect(run.code).toBe(CliExitCode.failed);
    expect(run.stderr).toMatch(/^» noexec main · failed \(exit 126\)/m);
    expect(run.stderr).toContain(
      'iwomp: command "./deploy.sh" could not start: EACCES (not executable: run chmod +x ./deploy.sh in the repository, or git update-index --chmod=+x ./deploy.sh, and commit)\n',
    );
  });
});
