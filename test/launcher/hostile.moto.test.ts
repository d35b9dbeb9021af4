import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeBuildJobLauncher } from '../../src/adapters/aws/codebuild-job-launcher.js';
import { SsmRegistry } from '../../src/adapters/aws/ssm-registry.js';
import {
  handleSnsEvent,
  type SnsEventSummary,
  type SnsHandlerDeps,
} from '../../src/launcher/handle-sns-event.js';
import { type Moto, startMoto } from '../support/moto.js';
import { hostileMessages } from './fixtures/hostile-messages.js';
import {
  buildCount,
  createWorkerProject,
  type LoggedLine,
  recordingLogger,
  register,
  snsEvent,
  startBuildRequests,
} from './support.js';

const WORKER = 'iwomp-worker';
let moto: Moto;
let codebuild: CodeBuildClient;
let deps: SnsHandlerDeps;
let lines: LoggedLine[];
let summary: SnsEventSummary;
let startBuilds: unknown[];
let builds: number;

const messageId = (i: number) => `bad00000-0000-4000-8000-${String(i).padStart(12, '0')}`;

beforeAll(async () => {
  moto = await startMoto();
  const ssm = new SSMClient(moto.clientConfig);
  codebuild = new CodeBuildClient(moto.clientConfig);
  await createWorkerProject(codebuild, WORKER);
  await register(ssm, 'iwomp-in-aws', 'demo', {
    gitUrl: 'https://git.example.com/demo.git',
    command: './deploy.sh',
    branches: ['main', 'release/*'],
  });
  const logger = recordingLogger();
  lines = logger.lines;
  deps = {
    registry: new SsmRegistry({ configPath: 'iwomp-in-aws', ssm }),
    launcher: new CodeBuildJobLauncher({ projectName: WORKER, codebuild }),
    logger,
  };
  // The whole corpus as one SNS batch: the handler must get through all of it without throwing.
  await moto.startRecording();
  summary = await handleSnsEvent(
    snsEvent(...hostileMessages.map((m, i) => ({ messageId: messageId(i), message: m.text }))),
    deps,
  );
  startBuilds = await startBuildRequests(moto);
  builds = await buildCount(codebuild, WORKER);
});

afterAll(async () => {
  await moto?.stop();
});

describe('hostile trigger messages', () => {
  it('accepts the valid message the corpus is made from, through the same handler: one build', async () => {
    // GIVEN the project, registry and launcher the hostile batch went through
    await moto.startRecording();
    // WHEN the message every hostile one departs from arrives
    const control = await handleSnsEvent(
      snsEvent({ messageId: messageId(9999), message: JSON.stringify({ project: 'demo', branch: 'main' }) }),
      deps,
    );
    // THEN it starts one build: the rejections above are the hostile values', not a broken setup
    expect(control).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
    expect(await startBuildRequests(moto)).toHaveLength(1);
    expect(await buildCount(codebuild, WORKER)).toBe(builds + 1);
  });

  it('starts no build for any of them: no StartBuild on the wire, none in CodeBuild', () => {
    expect(summary).toMatchObject({ accepted: 0, failed: 0, rejected: hostileMessages.length });
    expect(startBuilds).toEqual([]);
    expect(builds).toBe(0);
  });

  it.each(hostileMessages.map((m, i) => [m.name, i] as const))(
    'rejects %s with a clear reason',
    (_name, i) => {
      const expected = hostileMessages[i];
      const record = summary.records[i];
      expect(record?.outcome).toBe('rejected');
      const reason = record?.outcome === 'rejected' ? record.reason : '';
      expect(reason).toMatch(expected?.reason ?? /never/);
      // One printable line, short enough to read: the untrusted text is quoted and cut, never echoed raw.
      expect(reason).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
      expect(reason.length).toBeLessThanOrEqual(300);
      expect(lines[i]).toMatchObject({
        level: 'warn',
        attributes: { outcome: 'rejected', messageId: messageId(i), reason },
      });
    },
  );
});

describe('events that are not SNS notifications', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['null event', null, /^event is not an SNS event/],
    ['empty object', {}, /^event is not an SNS event/],
    ['Records not an array', { Records: 'x' }, /^event is not an SNS event/],
    ['null record', { Records: [null] }, /^record is not an SNS notification/],
    [
      'SQS record',
      { Records: [{ EventSource: 'aws:sqs', body: '{}' }] },
      /^record is not an SNS notification/,
    ],
    ['record without Sns', { Records: [{ EventSource: 'aws:sns' }] }, /^record is not an SNS notification/],
    [
      'no MessageId',
      { Records: [{ EventSource: 'aws:sns', Sns: { Message: '{}' } }] },
      /^record has no valid Sns.MessageId$/,
    ],
    [
      'MessageId with a newline',
      { Records: [{ EventSource: 'aws:sns', Sns: { MessageId: 'a\nb', Message: '{}' } }] },
      /^record has no valid Sns.MessageId$/,
    ],
    [
      'Message not a string',
      {
        Records: [
          { EventSource: 'aws:sns', Sns: { MessageId: 'm-1', Message: { project: 'demo', branch: 'main' } } },
        ],
      },
      /^record has no Sns.Message text$/,
    ],
  ];

  it.each(cases)('rejects %s without throwing and without a build', async (_name, event, reason) => {
    await moto.startRecording();
    const result = await handleSnsEvent(event, deps);
    expect(result.records).toHaveLength(1);
    expect(result.records[0]).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(reason) });
    expect(await startBuildRequests(moto)).toEqual([]);
  });

  it('accepts an empty batch as nothing to do', async () => {
    expect(await handleSnsEvent({ Records: [] }, deps)).toEqual({
      accepted: 0,
      rejected: 0,
      failed: 0,
      records: [],
    });
  });
});
