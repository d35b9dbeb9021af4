/**
 * dist/launcher.js as Lambda runs it: a fresh node process imports the bundle with the Lambda's
 * environment and calls `handler`. Credentials come from the environment only (see
 * src/adapters/aws/env-credentials.ts), so these tests also prove the swapped credential chain works.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyTokenFor } from '../../src/launcher/handle-sns-event.js';
import { type Moto, startMoto } from '../support/moto.js';
import {
  buildCount,
  createDeployTable,
  createWorkerProject,
  register,
  startBuildRequests,
} from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'dist/launcher.js');
const WORKER = 'iwomp-worker';
const TABLE = 'iwomp-deploys';
const EVENT = readFileSync(join(import.meta.dirname, 'fixtures/sns-event.json'), 'utf8');

let moto: Moto;
let codebuild: CodeBuildClient;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  result?: unknown;
  error?: string;
}

/** Imports `file` in a fresh node with only the given environment, calls handler(event), reports. */
function invoke(file: string, env: Record<string, string>, event: string = EVENT): Run {
  const script = `
    const { handler } = await import(${JSON.stringify(file)});
    try {
      const result = await handler(JSON.parse(process.env.EVENT));
      process.stderr.write('RESULT ' + JSON.stringify(result) + '\\n');
    } catch (error) {
      process.stderr.write('ERROR ' + error.name + ': ' + error.message + '\\n');
    }`;
  const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', EVENT: event, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const result = /^RESULT (.*)$/m.exec(run.stderr)?.[1];
  const error = /^ERROR (.*)$/m.exec(run.stderr)?.[1];
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    ...(result ? { result: JSON.parse(result) } : {}),
    ...(error ? { error } : {}),
  };
}

function lambdaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...moto.env,
    WORKER_PROJECT_NAME: WORKER,
    CONFIGPATH: '/iwomp-in-aws/',
    IWOMP_DEPLOY_TABLE: TABLE,
    ...extra,
  };
}

beforeAll(async () => {
  moto = await startMoto();
  codebuild = new CodeBuildClient(moto.clientConfig);
  await createWorkerProject(codebuild, WORKER);
  await createDeployTable(new DynamoDBClient(moto.clientConfig), TABLE);
  await register(new SSMClient(moto.clientConfig), 'iwomp-in-aws', 'demo', {
    gitUrl: 'https://git.example.com/demo.git',
    command: './deploy.sh',
  });
});

afterAll(async () => {
  await moto?.stop();
});

describe('dist/launcher.js in a fresh node', () => {
  it('starts the build for the documented SNS event and logs one Powertools JSON line', async () => {
    // GIVEN the demo project registered in moto (beforeAll), and moto recording requests
    await moto.startRecording();

    // WHEN the bundle handles the documented SNS event
    const run = invoke(BUNDLE, lambdaEnv());

    // THEN one build starts, with the idempotency token of the message
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
    expect(await buildCount(codebuild, WORKER)).toBe(1);
    const [request] = await startBuildRequests(moto);
    expect(request).toMatchObject({
      projectName: WORKER,
      idempotencyToken: idempotencyTokenFor('95df01b4-ee98-5cb9-9903-4c221d41eb5e'),
    });
    // AND stdout holds one Powertools JSON line describing it
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      service: 'iwomp-launcher',
      message: 'trigger accepted: build started',
      outcome: 'accepted',
      messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      project: 'demo',
      branch: 'main',
      buildId: expect.stringMatching(new RegExp(`^${WORKER}:`)),
    });
  });

  it('routes by shape: a build state change to the build handler, a Scheduled Event to the reconcile', () => {
    // GIVEN a build state change for a build no record names, and the schedule's event
    const buildEvent = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures/build-state-change.json'), 'utf8'),
    );
    buildEvent.detail['project-name'] = WORKER;
    const scheduled = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-11-22T20:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/iwomp-reconcile'],
      detail: {},
    };

    // WHEN the bundle handles each
    const build = invoke(BUNDLE, lambdaEnv(), JSON.stringify(buildEvent));
    const reconciled = invoke(BUNDLE, lambdaEnv(), JSON.stringify(scheduled));

    // THEN the build event is ignored (no record names it) and the reconcile reports the lanes it saw
    expect(build.result).toMatchObject({ outcome: 'ignored', reason: 'no deploy record names this build' });
    expect(reconciled.result).toMatchObject({ lanes: expect.any(Number), errors: 0 });
  });

  it('refuses to load without IWOMP_DEPLOY_TABLE, naming the variable', () => {
    // GIVEN the Lambda environment without the table
    const { IWOMP_DEPLOY_TABLE: _table, ...withoutTable } = lambdaEnv();
    // WHEN the bundle is loaded
    const run = invoke(BUNDLE, withoutTable);
    // THEN it fails, naming the variable
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('IWOMP_DEPLOY_TABLE: is required');
  });

  it('refuses to load without WORKER_PROJECT_NAME, naming the variable', () => {
    // GIVEN an environment without WORKER_PROJECT_NAME
    // WHEN the bundle is loaded
    const run = invoke(BUNDLE, { ...moto.env });
    // THEN it fails, naming the variable
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('WORKER_PROJECT_NAME: is required');
  });

  it('refuses a CONFIGPATH with a traversal segment', () => {
    // GIVEN a CONFIGPATH with a '..' segment
    // WHEN the bundle is loaded
    const run = invoke(BUNDLE, lambdaEnv({ CONFIGPATH: 'iwomp/../other' }));
    // THEN it fails, naming CONFIGPATH
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/CONFIGPATH: invalid config path/);
  });

  it('fails the trigger (retryable) when the environment holds no credentials, saying where it looked', () => {
    // GIVEN the Lambda environment without AWS keys
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = lambdaEnv();

    // WHEN the bundle handles the event
    const run = invoke(BUNDLE, withoutKeys);

    // THEN the trigger fails as a configuration failure naming the missing variable
    expect(run.error).toMatch(/^TriggerFailedError: 1 of 1 trigger\(s\) failed/);
    expect(run.error).toContain('AWS_ACCESS_KEY_ID: is not set');
    expect(run.stderr).toContain('"failure":"configuration"'); // Powertools writes WARN and ERROR to stderr
  });

  it('carries no AWS SDK credential chain beyond the environment', () => {
    // GIVEN the text of the built bundle
    const text = readFileSync(BUNDLE, 'utf8');
    // WHEN / THEN it holds none of the SDK's other credential providers
    for (const absent of ['credential-provider-sso', 'sso-oidc', 'AssumeRoleWithWebIdentity', 'fromIni'])
      expect(text).not.toContain(absent);
  });

  it('loads as index.mjs from a folder without package.json, as in the Lambda asset', () => {
    // GIVEN the bundle copied as index.mjs into a folder without package.json
    // Lambda reads a .js file as CommonJS unless a package.json says otherwise; the asset is index.mjs.
    const dir = mkdtempSync(join(tmpdir(), 'iwomp-asset-'));
    try {
      copyFileSync(BUNDLE, join(dir, 'index.mjs'));
      // WHEN it handles an event with no records
      const run = invoke(join(dir, 'index.mjs'), lambdaEnv(), JSON.stringify({ Records: [] }));
      // THEN it loaded as a module and returns an empty result
      expect(run.result).toEqual({ accepted: 0, rejected: 0, failed: 0, records: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
