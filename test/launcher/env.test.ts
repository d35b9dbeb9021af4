import { describe, expect, it } from 'vitest';
import { readEnvCredentials } from '../../src/adapters/aws/env-credentials.js';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseLauncherEnv } from '../../src/launcher/env.js';

describe('launcher environment', () => {
  it('reads the seed names, with CONFIGPATH defaulting to iwomp-in-aws', () => {
    expect(parseLauncherEnv({ WORKER_PROJECT_NAME: 'iwomp-worker' })).toEqual({
      configPath: 'iwomp-in-aws',
      workerProject: 'iwomp-worker',
    });
    expect(parseLauncherEnv({ WORKER_PROJECT_NAME: 'w_1', CONFIGPATH: '/team/iwomp/' }).configPath).toBe(
      'team/iwomp',
    );
  });

  it('accepts a worker project ARN', () => {
    const arn = 'arn:aws:codebuild:eu-west-1:123456789012:project/iwomp-worker';
    expect(parseLauncherEnv({ WORKER_PROJECT_NAME: arn }).workerProject).toBe(arn);
  });

  it.each([
    [{}, /^WORKER_PROJECT_NAME: is required$/],
    [{ WORKER_PROJECT_NAME: '' }, /^WORKER_PROJECT_NAME: is required$/],
    [{ WORKER_PROJECT_NAME: 'has space' }, /^WORKER_PROJECT_NAME: expected a CodeBuild project name/],
    [{ WORKER_PROJECT_NAME: 'x' }, /^WORKER_PROJECT_NAME: expected a CodeBuild project name/],
    [{ WORKER_PROJECT_NAME: 'arn:aws:codebuild:eu-west-1:1:project/x' }, /^WORKER_PROJECT_NAME: /],
    [{ WORKER_PROJECT_NAME: 'w1', CONFIGPATH: 'a/../b' }, /^CONFIGPATH: invalid config path/],
  ])('refuses %j', (env, message) => {
    expect(() => parseLauncherEnv(env)).toThrow(EnvironmentError);
    expect(() => parseLauncherEnv(env)).toThrow(message);
  });
});

describe('environment credentials (the Lambda bundle credential provider)', () => {
  it('reads key, secret and session token', () => {
    expect(
      readEnvCredentials({
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 's3cr3t',
        AWS_SESSION_TOKEN: 'tok',
      }),
    ).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's3cr3t', sessionToken: 'tok' });
  });

  it('names the missing variable and never the values it has', () => {
    expect(() => readEnvCredentials({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' })).toThrow(
      /^AWS_SECRET_ACCESS_KEY: is not set/,
    );
    expect(() => readEnvCredentials({ AWS_SECRET_ACCESS_KEY: 's3cr3t' })).toThrow(
      /^AWS_ACCESS_KEY_ID: is not set/,
    );
    try {
      readEnvCredentials({ AWS_SECRET_ACCESS_KEY: 's3cr3t' });
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t');
    }
  });
});
