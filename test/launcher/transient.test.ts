/**
 * Failures moto cannot produce (throttling, 5xx, access denied, a dropped connection), with
 * aws-sdk-client-mock on the CodeBuild client only. The registry is real SSM on moto.
 */
import {
  AccountLimitExceededException,
  CodeBuildClient,
  CodeBuildServiceException,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CodeBuildJobLauncher } from '../../src/adapters/aws/codebuild-job-launcher.js';
import { SsmRegistry } from '../../src/adapters/aws/ssm-registry.js';
import { JobStartError } from '../../src/core/errors.js';
import {
  handleSnsEvent,
  idempotencyTokenFor,
  type SnsHandlerDeps,
  TriggerFailedError,
} from '../../src/launcher/handle-sns-event.js';
import { type Moto, startMoto } from '../support/moto.js';
import { recordingLogger, register, snsEvent } from './support.js';

const WORKER = 'iwomp-worker';
let moto: Moto;
let ssm: SSMClient;
let codebuild: CodeBuildClient;
const stubOf = (client: CodeBuildClient) => mockClient(client);
let cb: ReturnType<typeof stubOf>;

function serviceError(name: string, status: number, fault: 'client' | 'server'): CodeBuildServiceException {
  return new CodeBuildServiceException({
    name,
    message: `${name} from the service`,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
}

const throttled = () => serviceError('ThrottlingException', 400, 'client');

function deps(logger = recordingLogger()): SnsHandlerDeps & { logger: typeof logger } {
  return {
    registry: new SsmRegistry({ configPath: 'iwomp-in-aws', ssm }),
    launcher: new CodeBuildJobLauncher({ projectName: WORKER, codebuild }),
    logger,
  };
}

const good = (id: string) => ({
  messageId: id,
  message: JSON.stringify({ project: 'demo', branch: 'main' }),
});
const unregistered = (id: string) => ({
  messageId: id,
  message: JSON.stringify({ project: 'nobody', branch: 'main' }),
});

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  await register(ssm, 'iwomp-in-aws', 'demo', { gitUrl: 'https://git.example.com/d.git', command: './d.sh' });
  codebuild = new CodeBuildClient({ ...moto.clientConfig, maxAttempts: 1 });
  cb = stubOf(codebuild);
});

beforeEach(() => {
  cb.reset();
});

afterAll(async () => {
  cb.restore();
  await moto?.stop();
});

describe('transient CodeBuild failures', () => {
  it('throws when CodeBuild throttles, so Lambda retries the event', async () => {
    // GIVEN CodeBuild throttling every StartBuild
    cb.on(StartBuildCommand).rejects(throttled());
    const logger = recordingLogger();

    // WHEN a trigger for a registered project arrives
    const error = await handleSnsEvent(snsEvent(good('t-1')), deps(logger)).catch((e: unknown) => e);

    // THEN the handler throws, so Lambda retries, and logs one transient failure
    expect(error).toBeInstanceOf(TriggerFailedError);
    expect((error as Error).message).toBe(
      '1 of 1 trigger(s) failed and will be retried: t-1: CodeBuild is throttling StartBuild, retry later ' +
        '(ThrottlingException: ThrottlingException from the service)',
    );
    expect(logger.lines).toEqual([
      {
        level: 'error',
        message: 'trigger failed, will be retried',
        attributes: {
          outcome: 'failed',
          messageId: 't-1',
          project: 'demo',
          branch: 'main',
          reason: expect.stringMatching(/^CodeBuild is throttling/),
          failure: 'transient',
        },
      },
    ]);
  });

  it('never throws on the rejected path, even while CodeBuild throttles', async () => {
    // GIVEN CodeBuild throttling every StartBuild
    cb.on(StartBuildCommand).rejects(throttled());

    // WHEN a trigger for an unregistered project arrives
    const summary = await handleSnsEvent(snsEvent(unregistered('t-2')), deps());

    // THEN it is rejected without calling CodeBuild, and nothing throws
    expect(summary).toMatchObject({ accepted: 0, rejected: 1, failed: 0 });
    expect(cb.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  it('handles every record before throwing; the retry re-sends the accepted record with the same token', async () => {
    // GIVEN the first StartBuild succeeds, the second is throttled
    cb.on(StartBuildCommand)
      .resolvesOnce({ build: { id: `${WORKER}:first` } })
      .rejectsOnce(throttled())
      .resolves({ build: { id: `${WORKER}:again` } });
    const event = snsEvent(good('b-1'), unregistered('b-2'), good('b-3'));

    // WHEN the first delivery fails on b-3, and Lambda retries the whole event
    const error = await handleSnsEvent(event, deps()).catch((e: unknown) => e);
    const retry = await handleSnsEvent(event, deps());

    // THEN the first delivery handled all three records, and the retry re-sent b-1 and b-3 with their tokens
    expect(error).toBeInstanceOf(TriggerFailedError);
    expect((error as TriggerFailedError).summary.records.map((r) => r.outcome)).toEqual([
      'accepted',
      'rejected',
      'failed',
    ]);
    expect(retry.records.map((r) => r.outcome)).toEqual(['accepted', 'rejected', 'accepted']);
    const tokens = cb.commandCalls(StartBuildCommand).map((c) => c.args[0].input.idempotencyToken);
    expect(tokens).toEqual([
      idempotencyTokenFor('b-1'),
      idempotencyTokenFor('b-3'),
      idempotencyTokenFor('b-1'),
      idempotencyTokenFor('b-3'),
    ]);
  });
});

describe('transient registry failures', () => {
  it('throws when SSM cannot be reached, and starts nothing', async () => {
    // GIVEN a registry whose SSM endpoint refuses connections
    // A real refused connection: nothing listens on port 1.
    const offline = new SSMClient({ ...moto.clientConfig, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    const logger = recordingLogger();

    // WHEN a trigger arrives
    const error = await handleSnsEvent(snsEvent(good('s-1')), {
      ...deps(logger),
      registry: new SsmRegistry({ configPath: 'iwomp-in-aws', ssm: offline }),
    }).catch((e: unknown) => e);

    // THEN the handler throws, logs a transient failure, and starts nothing
    expect(error).toBeInstanceOf(TriggerFailedError);
    expect(logger.lines[0]?.attributes).toMatchObject({
      outcome: 'failed',
      failure: 'transient',
      reason: expect.stringMatching(/^cannot read \/iwomp-in-aws\/(_default|demo) from SSM: /),
    });
    expect(cb.commandCalls(StartBuildCommand)).toHaveLength(0);
  });
});

describe('registry failures that need a fix, not a wait', () => {
  it('marks an SSM access denial as a configuration failure, and still throws', async () => {
    // GIVEN an SSM client that is denied GetParameter
    const denied = new SSMClient(moto.clientConfig);
    const ssmStub = mockClient(denied);
    ssmStub.on(GetParameterCommand).rejects(
      new SSMServiceException({
        name: 'AccessDeniedException',
        message: 'not authorized to perform: ssm:GetParameter',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const logger = recordingLogger();
    try {
      // WHEN a trigger arrives
      const error = await handleSnsEvent(snsEvent(good('d-1')), {
        ...deps(logger),
        registry: new SsmRegistry({ configPath: 'iwomp-in-aws', ssm: denied }),
      }).catch((e: unknown) => e);

      // THEN the handler throws, and logs a configuration failure
      expect(error).toBeInstanceOf(TriggerFailedError);
      expect(logger.lines[0]?.attributes).toMatchObject({
        outcome: 'failed',
        failure: 'configuration',
        reason: expect.stringContaining('AccessDeniedException: not authorized to perform: ssm:GetParameter'),
      });
    } finally {
      ssmStub.restore();
    }
  });
});

describe('CodeBuild error mapping', () => {
  const cases: Array<[string, unknown, 'transient' | 'configuration', RegExp]> = [
    ['ThrottlingException', throttled(), 'transient', /^CodeBuild is throttling StartBuild/],
    [
      'concurrent build limit (AccountLimitExceeded)',
      new AccountLimitExceededException({ message: 'limit', $metadata: { httpStatusCode: 400 } }),
      'transient',
      // Changed with issue 11: a limit is its own case (JobLimitError, the trigger waits in its lane).
      /^CodeBuild refused a build for the concurrent-build limit, retry later/,
    ],
    ['HTTP 429', serviceError('TooManyRequests', 429, 'client'), 'transient', /^CodeBuild is throttling/],
    [
      'HTTP 500',
      serviceError('InternalFailure', 500, 'server'),
      'transient',
      /^CodeBuild failed \(server error\)/,
    ],
    [
      'HTTP 503',
      serviceError('ServiceUnavailable', 503, 'server'),
      'transient',
      /^CodeBuild failed \(server error\)/,
    ],
    [
      'connection reset',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      'transient',
      /^cannot reach CodeBuild, retry later \(Error: socket hang up\)$/,
    ],
    [
      'AccessDenied',
      serviceError('AccessDeniedException', 400, 'client'),
      'configuration',
      /^not allowed to start builds of 'iwomp-worker': the launcher's role needs codebuild:StartBuild/,
    ],
    [
      'ResourceNotFound',
      serviceError('ResourceNotFoundException', 400, 'client'),
      'configuration',
      /^worker project 'iwomp-worker' not found in CodeBuild/,
    ],
    [
      'InvalidInput (e.g. a token reused with other parameters)',
      serviceError('InvalidInputException', 400, 'client'),
      'configuration',
      /^CodeBuild refused StartBuild of 'iwomp-worker' \(InvalidInputException: /,
    ],
  ];

  it.each(cases)('%s', async (_name, failure, kind, message) => {
    // GIVEN CodeBuild failing StartBuild as in the table
    cb.on(StartBuildCommand).rejects(failure as Error);
    const launcher = new CodeBuildJobLauncher({ projectName: WORKER, codebuild });

    // WHEN the launcher starts a build
    const error = await launcher.start({ project: 'demo', branch: 'main' }).catch((e: unknown) => e);

    // THEN it fails with a one-line JobStartError of the expected kind, carrying the cause
    expect(error).toBeInstanceOf(JobStartError);
    expect(error).toMatchObject({ kind, message: expect.stringMatching(message), cause: failure });
    expect((error as Error).message).not.toContain('\n');
  });

  it('fails when CodeBuild answers without a build id', async () => {
    // GIVEN CodeBuild answering StartBuild without a build
    cb.on(StartBuildCommand).resolves({});
    const launcher = new CodeBuildJobLauncher({ projectName: WORKER, codebuild });

    // WHEN / THEN starting a build fails, saying no id was sent
    await expect(launcher.start({ project: 'demo', branch: 'main' })).rejects.toThrow(/sent no id/);
  });
});
