import { describe, expect, it } from 'vitest';
import { readEnvCredentials } from '../../src/adapters/aws/env-credentials.js';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseLauncherEnv } from '../../src/launcher/env.js';

// Required since issue 11; the tests below are about the other variables.
const TABLE = { IWOMP_DEPLOY_TABLE: 'iwomp-deploys' };

describe('launcher environment', () => {
  it('reads the seed names, with CONFIGPATH defaulting to iwomp-in-aws', () => {
    // GIVEN WORKER_PROJECT_NAME alone, then with a CONFIGPATH
    // WHEN / THEN they parse to the worker project and a normalised config path
    expect(parseLauncherEnv({ WORKER_PROJECT_NAME: 'iwomp-worker', ...TABLE })).toEqual({
      configPath: 'iwomp-in-aws',
      workerProject: 'iwomp-worker',
      deployTable: 'iwomp-deploys',
      retentionDays: 90,
    });
    expect(
      parseLauncherEnv({ WORKER_PROJECT_NAME: 'w_1', CONFIGPATH: '/team/iwomp/', ...TABLE }).configPath,
    ).toBe('team/iwomp');
  });

  it('accepts a worker project ARN', () => {
    // GIVEN a worker project given as a full CodeBuild ARN
    const arn = 'arn:aws:codebuild:eu-west-1:123456789012:project/iwomp-worker';
    // WHEN / THEN the ARN is kept as it is
    expect(parseLauncherEnv({ WORKER_PROJECT_NAME: arn, ...TABLE }).workerProject).toBe(arn);
  });

  it.each([
    [{}, /^WORKER_PROJECT_NAME: is required$/],
    [{ WORKER_PROJECT_NAME: '' }, /^WORKER_PROJECT_NAME: is required$/],
    [{ WORKER_PROJECT_NAME: 'has space' }, /^WORKER_PROJECT_NAME: expected a CodeBuild project name/],
    [{ WORKER_PROJECT_NAME: 'x' }, /^WORKER_PROJECT_NAME: expected a CodeBuild project name/],
    [{ WORKER_PROJECT_NAME: 'arn:aws:codebuild:eu-west-1:1:project/x' }, /^WORKER_PROJECT_NAME: /],
    [{ WORKER_PROJECT_NAME: 'w1', CONFIGPATH: 'a/../b' }, /^CONFIGPATH: invalid config path/],
  ])('refuses %j', (env, message) => {
    // GIVEN an environment from the table
    // WHEN / THEN parsing throws an EnvironmentError with the expected message
    expect(() => parseLauncherEnv(env)).toThrow(EnvironmentError);
    expect(() => parseLauncherEnv(env)).toThrow(message);
  });
});

describe('launcher environment: the deploy table and retention', () => {
  it('reads the table and the retention, defaulting to 90 days', () => {
    // GIVEN the two variables, then the table alone
    const full = { WORKER_PROJECT_NAME: 'w1', ...TABLE, IWOMP_RETENTION_DAYS: '30' };
    // WHEN / THEN they parse to typed values
    expect(parseLauncherEnv(full)).toMatchObject({ deployTable: 'iwomp-deploys', retentionDays: 30 });
    const bare = parseLauncherEnv({ WORKER_PROJECT_NAME: 'w1', ...TABLE });
    expect(bare.retentionDays).toBe(90);
  });

  it('no longer reads the results topic: the notifier publishes results (docs/lifecycle.md)', () => {
    // GIVEN a results topic variable, even one that is not an ARN
    const env = { WORKER_PROJECT_NAME: 'w1', ...TABLE, IWOMP_RESULTS_TOPIC_ARN: 'results' };
    // WHEN it is parsed
    const parsed = parseLauncherEnv(env);
    // THEN nothing of it is kept, and it is not refused
    expect(Object.keys(parsed)).not.toContain('resultsTopicArn');
    expect(JSON.stringify(parsed)).not.toContain('results');
  });

  it.each([
    [{}, /^IWOMP_DEPLOY_TABLE: is required$/],
    [{ IWOMP_DEPLOY_TABLE: 'a b' }, /^IWOMP_DEPLOY_TABLE: expected a DynamoDB table name/],
    [
      { ...TABLE, IWOMP_RETENTION_DAYS: '0' },
      /^IWOMP_RETENTION_DAYS: expected whole days from 1 to 3650, got "0"$/,
    ],
    [{ ...TABLE, IWOMP_RETENTION_DAYS: '1.5' }, /^IWOMP_RETENTION_DAYS: expected whole days/],
  ])('refuses %j in one line naming the variable', (extra, message) => {
    // GIVEN a valid worker project and the variables from the table
    const env = { WORKER_PROJECT_NAME: 'w1', ...extra };
    // WHEN / THEN parsing throws one EnvironmentError line
    expect(() => parseLauncherEnv(env)).toThrow(EnvironmentError);
    expect(() => parseLauncherEnv(env)).toThrow(message);
  });
});

describe('environment credentials (the Lambda bundle credential provider)', () => {
  it('reads key, secret and session token', () => {
    // GIVEN all three credential variables
    // WHEN / THEN they come back as SDK credentials
    expect(
      readEnvCredentials({
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 's3cr3t',
        AWS_SESSION_TOKEN: 'tok',
      }),
    ).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's3cr3t', sessionToken: 'tok' });
  });

  it('names the missing variable and never the values it has', () => {
    // GIVEN an environment missing one of the two keys
    // WHEN / THEN the error names the missing variable
    expect(() => readEnvCredentials({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' })).toThrow(
      /^AWS_SECRET_ACCESS_KEY: is not set/,
    );
    expect(() => readEnvCredentials({ AWS_SECRET_ACCESS_KEY: 's3cr3t' })).toThrow(
      /^AWS_ACCESS_KEY_ID: is not set/,
    );
    // AND the message never carries the secret value it was given
    try {
      readEnvCredentials({ AWS_SECRET_ACCESS_KEY: 's3cr3t' });
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t');
    }
  });
});
