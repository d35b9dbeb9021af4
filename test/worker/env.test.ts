import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseDeployTableEnv, parseWorkerEnv } from '../../src/worker/env.js';

const base = { PROJECTNAME: 'demo', GITBRANCH: 'main' };

describe('parseWorkerEnv', () => {
  it('reads the seed variables with their defaults', () => {
    expect(parseWorkerEnv(base)).toEqual({
      configPath: 'iwomp-in-aws',
      project: 'demo',
      branch: 'main',
      registry: { kind: 'ssm' },
      local: false,
      keepWorkDir: false,
    });
  });

  it('reads the new variables', () => {
    const commit = 'a'.repeat(40);
    const env = parseWorkerEnv({
      ...base,
      CONFIGPATH: '/teams/iwomp/',
      GITBRANCH: 'refs/heads/release/1',
      GITCOMMIT: commit,
      IWOMP_REGISTRY: 'file:/srv/registry',
      IWOMP_LOCAL: '1',
      IWOMP_WORKDIR: '/dev/shm',
    });
    expect(env).toMatchObject({
      configPath: 'teams/iwomp',
      branch: 'release/1',
      commit,
      registry: { kind: 'file', dir: '/srv/registry' },
      local: true,
      workRoot: '/dev/shm',
    });
  });

  it.each([
    [{ GITBRANCH: 'main' }, /^PROJECTNAME: is required$/],
    [{ PROJECTNAME: 'demo' }, /^GITBRANCH: is required$/],
    [{ ...base, PROJECTNAME: '' }, /^PROJECTNAME: is required$/],
    [{ ...base, GITCOMMIT: 'HEAD' }, /^GITCOMMIT: invalid commit "HEAD"/],
    [{ ...base, CONFIGPATH: 'a/../b' }, /^CONFIGPATH: invalid config path/],
    [{ ...base, IWOMP_REGISTRY: 's3://x' }, /^IWOMP_REGISTRY: expected 'ssm' or 'file:<dir>'/],
    [{ ...base, IWOMP_LOCAL: 'yes' }, /^IWOMP_LOCAL: expected 1 or 0/],
  ])('names the variable in one line: %j', (env, message) => {
    let error: unknown;
    try {
      parseWorkerEnv(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reads the fetch and job deadlines in whole seconds, and refuses anything else by name', () => {
    // GIVEN deadlines in the environment WHEN read THEN they are seconds
    expect(parseWorkerEnv({ ...base, IWOMP_FETCH_TIMEOUT: '90', IWOMP_JOB_TIMEOUT: '3600' })).toMatchObject({
      fetchTimeoutSeconds: 90,
      jobTimeoutSeconds: 3600,
    });
    // AND a value that is not 1 to 129600 whole seconds is one line naming the variable
    for (const value of ['0', '-1', '1.5', '10m', '129601', ' 5']) {
      expect(() => parseWorkerEnv({ ...base, IWOMP_FETCH_TIMEOUT: value })).toThrow(
        /^IWOMP_FETCH_TIMEOUT: expected a whole number of seconds from 1 to 129600/,
      );
      expect(() => parseWorkerEnv({ ...base, IWOMP_JOB_TIMEOUT: value })).toThrow(/^IWOMP_JOB_TIMEOUT: /);
    }
  });

  it('keeps the work dir in CodeBuild, whose container is discarded, unless told otherwise', () => {
    expect(parseWorkerEnv({ ...base, CODEBUILD_BUILD_ID: 'worker:1' }).keepWorkDir).toBe(true);
    expect(
      parseWorkerEnv({ ...base, CODEBUILD_BUILD_ID: 'worker:1', IWOMP_KEEP_WORKDIR: '0' }).keepWorkDir,
    ).toBe(false);
    expect(parseWorkerEnv({ ...base, IWOMP_KEEP_WORKDIR: '1' }).keepWorkDir).toBe(true);
  });
});

describe('CODEBUILD_BUILD_URL', () => {
  it("is the commit status's link when it is an https URL, and a one-line error otherwise", () => {
    // GIVEN CodeBuild's console link, and something else
    const url = 'https://us-east-1.console.aws.amazon.com/codesuite/codebuild/projects/w/build/w%3A1';
    // THEN the link is kept, the rest refused by name
    expect(parseWorkerEnv({ ...base, CODEBUILD_BUILD_URL: url }).buildUrl).toBe(url);
    expect(() => parseWorkerEnv({ ...base, CODEBUILD_BUILD_URL: 'javascript:alert(1)' })).toThrow(
      'CODEBUILD_BUILD_URL: expected an https:// URL, got "javascript:alert(1)"',
    );
  });
});

describe('parseDeployTableEnv', () => {
  it('reports to the record when the table and the trigger id are both set', () => {
    // GIVEN the worker project's table and the launcher's per-build trigger id
    const env = {
      IWOMP_DEPLOY_TABLE: 'iwomp-Deploys_1.x',
      IWOMP_TRIGGER_ID: '5a1c0b7e-2f3d-4e5f-8a9b-0c1d2e3f4a5b',
    };
    // THEN both are the target
    expect(parseDeployTableEnv(env)).toEqual({
      target: { tableName: 'iwomp-Deploys_1.x', triggerId: '5a1c0b7e-2f3d-4e5f-8a9b-0c1d2e3f4a5b' },
    });
  });

  it('reports nowhere without the table, and says so when only the trigger id is missing', () => {
    expect(parseDeployTableEnv({})).toEqual({});
    expect(parseDeployTableEnv({ IWOMP_TRIGGER_ID: 'abc' })).toEqual({});
    expect(parseDeployTableEnv({ IWOMP_DEPLOY_TABLE: 'iwomp-deploys', IWOMP_TRIGGER_ID: '' })).toEqual({
      note: 'IWOMP_TRIGGER_ID is not set: this build reports to no deploy record',
    });
  });

  it('refuses names the launcher and the stack could not have set, in one line naming the variable', () => {
    expect(() => parseDeployTableEnv({ IWOMP_DEPLOY_TABLE: 'a b', IWOMP_TRIGGER_ID: 'x' })).toThrow(
      'IWOMP_DEPLOY_TABLE: expected a DynamoDB table name (3-255 of [A-Za-z0-9_.-]), got "a b"',
    );
    // A bad character at either end, beside a valid run: both anchors of each rule count.
    for (const table of ['bad table', 'table bad']) {
      expect(() => parseDeployTableEnv({ IWOMP_DEPLOY_TABLE: table, IWOMP_TRIGGER_ID: 'x' })).toThrow(
        /^IWOMP_DEPLOY_TABLE: /,
      );
    }
    for (const id of ['a/b', 'x'.repeat(129), 'deploy#1', '/ok-id', 'ok-id/']) {
      expect(() =>
        parseDeployTableEnv({ IWOMP_DEPLOY_TABLE: 'iwomp-deploys', IWOMP_TRIGGER_ID: id }),
      ).toThrow(/^IWOMP_TRIGGER_ID: expected a trigger id \(1-128 of \[A-Za-z0-9._:-\]\), got /);
    }
    expect(() =>
      parseDeployTableEnv({ IWOMP_DEPLOY_TABLE: 'iwomp-deploys', IWOMP_TRIGGER_ID: 'a\nb' }),
    ).toThrow(EnvironmentError);
  });
});
