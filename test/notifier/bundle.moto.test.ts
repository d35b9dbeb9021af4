/**
 * dist/notifier.js as Lambda runs it: a fresh node imports the bundle with only the Lambda's
 * environment (credentials in variables, as the bundle's credential swap expects), and handles a
 * stream event against moto's SNS. Needs `npm run build` first, like the launcher's bundle test.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordKey, recordToItem } from '../../src/adapters/aws/deploy-table.js';
import { type DeployRecord, deployResultOf } from '../../src/core/deploy-record.js';
import { markRejected } from '../../src/core/job-record.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createTopicWithQueue, type TopicQueue } from '../support/sns-queue.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NOTIFIER = join(ROOT, 'dist/notifier.js');
const LAUNCHER = join(ROOT, 'dist/launcher.js');

let moto: Moto;
let results: TopicQueue;

beforeAll(async () => {
  moto = await startMoto();
  results = await createTopicWithQueue(moto, 'iwomp-results');
});

afterAll(async () => {
  await moto?.stop();
});

/** Imports the bundle in a fresh node with only `env`, calls handler(event); stdout and the outcome. */
function invoke(env: Record<string, string>, event: unknown) {
  const script = `
    try {
      const { handler } = await import(${JSON.stringify(NOTIFIER)});
      process.stderr.write('RESULT ' + JSON.stringify(await handler(JSON.parse(process.env.EVENT))) + '\\n');
    } catch (error) {
      process.stderr.write('ERROR ' + error.message + '\\n');
    }`;
  const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', EVENT: JSON.stringify(event), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const result = /^RESULT (.*)$/m.exec(run.stderr)?.[1];
  return {
    stdout: run.stdout,
    result: result === undefined ? undefined : JSON.parse(result),
    error: /^ERROR (.*)$/m.exec(run.stderr)?.[1],
  };
}

describe('dist/notifier.js in a fresh node', () => {
  it('publishes the result of a record that became final, and logs one Powertools JSON line', async () => {
    // GIVEN a record rejected by the launcher, as its stream record
    const received: DeployRecord = {
      version: 1,
      id: 'b-1',
      project: 'ghost',
      branch: 'main',
      state: 'received',
      createdAt: '2026-11-22T10:00:00.000Z',
    };
    const rejected = markRejected(
      received,
      'project ghost is not registered',
      new Date('2026-11-22T10:00:01Z'),
    );
    const event = {
      Records: [
        {
          eventID: 'e-1',
          eventName: 'MODIFY',
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: 'us-east-1',
          dynamodb: {
            Keys: recordKey('b-1'),
            OldImage: recordToItem(received),
            NewImage: recordToItem(rejected),
            SequenceNumber: '100',
            SizeBytes: 200,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
          eventSourceARN:
            'arn:aws:dynamodb:us-east-1:123456789012:table/iwomp-deploys/stream/2026-11-22T10:00:00.000',
        },
      ],
    };

    // WHEN the bundle handles it with the Lambda's environment
    const run = invoke({ ...moto.env, IWOMP_RESULTS_TOPIC_ARN: results.topicArn }, event);

    // THEN nothing is retried, the result is on the topic, and one JSON line says so
    expect(run.error).toBeUndefined();
    expect(run.result).toEqual({ batchItemFailures: [] });
    const delivered = await results.next(2);
    expect(JSON.parse(delivered?.message ?? '')).toEqual(deployResultOf(rejected));
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        service: 'iwomp-notifier',
        message: 'result published',
        messageId: 'b-1',
        state: 'rejected',
      }),
    ]);
  });

  it('fails its start in one line when the results topic is not set', () => {
    // GIVEN / WHEN the bundle starts without IWOMP_RESULTS_TOPIC_ARN
    const run = invoke(moto.env, { Records: [] });
    // THEN the import fails, naming the variable
    expect(run.error).toBe('IWOMP_RESULTS_TOPIC_ARN: is required');
  });
});

describe('dist/launcher.js', () => {
  it('carries no SNS client: publishing results is the notifier’s', () => {
    // GIVEN / WHEN the launcher bundle's text
    const launcher = readFileSync(LAUNCHER, 'utf8');
    // THEN the SNS protocol's service name, present in the notifier's bundle, is not in it
    // (booleans: a failure should not print a 400 KB bundle)
    expect(readFileSync(NOTIFIER, 'utf8').includes('AmazonSimpleNotificationService')).toBe(true);
    expect(launcher.includes('AmazonSimpleNotificationService')).toBe(false);
  });
});
