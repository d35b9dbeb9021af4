import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseWorkerEnv } from '../../src/worker/env.js';

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
