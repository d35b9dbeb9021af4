import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import {
  buildCount,
  createWorkerProject,
  recordingLogger,
  register,
  snsEvent,
  startBuildRequests,
} from './support.js';

const CONFIG_PATH = 'iwomp-in-aws';
const WORKER = 'iwomp-worker';
const TOKEN = 'ghp-secret-token-5b1e9c0d7a';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

let moto: Moto;
let ssm: SSMClient;
let codebuild: CodeBuildClient;

function deps(logger = recordingLogger(), worker = WORKER): SnsHandlerDeps & { logger: typeof logger } {
  return {
    registry: new SsmRegistry({ configPath: CONFIG_PATH, ssm }),
    launcher: new CodeBuildJobLauncher({ projectName: worker, codebuild }),
    logger,
  };
}

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));
}

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  codebuild = new CodeBuildClient(moto.clientConfig);
  await createWorkerProject(codebuild, WORKER);
  await register(ssm, CONFIG_PATH, 'demo', {
    gitUrl: 'https://git.example.com/demo.git',
    command: './deploy.sh',
    branches: ['main', 'release/*'],
  });
  await register(
    ssm,
    CONFIG_PATH,
    'private',
    { gitUrl: 'https://git.example.com/private.git', authToken: TOKEN, command: ['./deploy.sh', '--prod'] },
    true,
  );
});

afterAll(async () => {
  await moto?.stop();
});

describe('launcher against moto (SSM registry, CodeBuild worker project)', () => {
  it('starts exactly one build for a registered project, with exactly the three overrides and the token', async () => {
    // GIVEN the documented SNS event, and moto recording requests
    const event = fixture('sns-event.json');
    const before = await buildCount(codebuild, WORKER);
    await moto.startRecording();
    const logger = recordingLogger();

    // WHEN the launcher handles it
    const summary = await handleSnsEvent(event, deps(logger));

    // THEN one build starts, with exactly PROJECTNAME, GITBRANCH and the idempotency token
    expect(summary).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
    expect(await buildCount(codebuild, WORKER)).toBe(before + 1);
    const requests = await startBuildRequests(moto);
    expect(requests).toEqual([
      {
        projectName: WORKER,
        environmentVariablesOverride: [
          { name: 'PROJECTNAME', value: 'demo', type: 'PLAINTEXT' },
          { name: 'GITBRANCH', value: 'main', type: 'PLAINTEXT' },
        ],
        idempotencyToken: idempotencyTokenFor('95df01b4-ee98-5cb9-9903-4c221d41eb5e'),
      },
    ]);
    // AND one info line says the trigger was accepted, with its build id
    const record = summary.records[0];
    expect(record?.outcome).toBe('accepted');
    expect(logger.lines).toEqual([
      {
        level: 'info',
        message: 'trigger accepted: build started',
        attributes: {
          outcome: 'accepted',
          messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          project: 'demo',
          branch: 'main',
          buildId: record?.outcome === 'accepted' ? record.buildId : 'missing',
        },
      },
    ]);
    expect(record?.outcome === 'accepted' && record.buildId).toMatch(new RegExp(`^${WORKER}:`));
  });

  it("sends a project's timeoutMinutes as the build's timeout, with the worker's margin; none without the key", async () => {
    // GIVEN a project with a deadline of 30 minutes (demo has none)
    await register(ssm, CONFIG_PATH, 'timed', {
      gitUrl: 'https://git.example.com/timed.git',
      command: './deploy.sh',
      timeoutMinutes: 30,
    });
    await moto.startRecording();
    const message = (project: string) => JSON.stringify({ project, branch: 'main' });

    // WHEN both are triggered, then the timed one again through a launcher told not to send
    // timeouts (Lambda compute takes none)
    await handleSnsEvent(
      snsEvent(
        { messageId: 'c0ffee00-0000-4000-8000-0000000000a1', message: message('timed') },
        { messageId: 'c0ffee00-0000-4000-8000-0000000000a2', message: message('demo') },
      ),
      deps(),
    );
    await handleSnsEvent(
      snsEvent({ messageId: 'c0ffee00-0000-4000-8000-0000000000a3', message: message('timed') }),
      {
        ...deps(),
        launcher: new CodeBuildJobLauncher({ projectName: WORKER, codebuild, timeoutOverride: false }),
      },
    );

    // THEN exactly: 30 + 5 minutes for the timed project, no override for demo or without overrides
    const overrides = (project: string) => [
      { name: 'PROJECTNAME', value: project, type: 'PLAINTEXT' },
      { name: 'GITBRANCH', value: 'main', type: 'PLAINTEXT' },
    ];
    expect(await startBuildRequests(moto)).toEqual([
      {
        projectName: WORKER,
        environmentVariablesOverride: overrides('timed'),
        idempotencyToken: idempotencyTokenFor('c0ffee00-0000-4000-8000-0000000000a1'),
        timeoutInMinutesOverride: 35,
      },
      {
        projectName: WORKER,
        environmentVariablesOverride: overrides('demo'),
        idempotencyToken: idempotencyTokenFor('c0ffee00-0000-4000-8000-0000000000a2'),
      },
      {
        projectName: WORKER,
        environmentVariablesOverride: overrides('timed'),
        idempotencyToken: idempotencyTokenFor('c0ffee00-0000-4000-8000-0000000000a3'),
      },
    ]);
  });

  it('passes the commit CI tested as GITCOMMIT, and a refs/heads/ branch in its short form', async () => {
    // GIVEN a message with a commit and a refs/heads/ branch
    await moto.startRecording();
    const message = JSON.stringify({ project: 'demo', branch: 'refs/heads/main', commit: COMMIT });

    // WHEN the launcher handles it
    await handleSnsEvent(snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000001', message }), deps());

    // THEN the build gets GITCOMMIT and the short branch name
    const [request] = await startBuildRequests(moto);
    expect(request?.environmentVariablesOverride).toEqual([
      { name: 'PROJECTNAME', value: 'demo', type: 'PLAINTEXT' },
      { name: 'GITBRANCH', value: 'main', type: 'PLAINTEXT' },
      { name: 'GITCOMMIT', value: COMMIT, type: 'PLAINTEXT' },
    ]);
  });

  it('starts no build for an unregistered project, and says so', async () => {
    // GIVEN a message for a project that is not registered
    const before = await buildCount(codebuild, WORKER);
    await moto.startRecording();
    const logger = recordingLogger();
    const message = JSON.stringify({ project: 'nobody', branch: 'main' });

    // WHEN the launcher handles it
    const summary = await handleSnsEvent(
      snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000002', message }),
      deps(logger),
    );

    // THEN it is rejected, no build starts, and a warning names the missing parameter
    expect(summary).toMatchObject({ accepted: 0, rejected: 1, failed: 0 });
    expect(await startBuildRequests(moto)).toEqual([]);
    expect(await buildCount(codebuild, WORKER)).toBe(before);
    expect(logger.lines[0]).toMatchObject({
      level: 'warn',
      attributes: {
        outcome: 'rejected',
        project: 'nobody',
        branch: 'main',
        reason: "project 'nobody' is not registered (no /iwomp-in-aws/nobody)",
      },
    });
  });

  it('starts no build for a branch outside the project rules', async () => {
    // GIVEN a message for demo on a branch its rules do not allow
    await moto.startRecording();
    const logger = recordingLogger();
    const message = JSON.stringify({ project: 'demo', branch: 'feature/x' });

    // WHEN the launcher handles it
    await handleSnsEvent(
      snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000003', message }),
      deps(logger),
    );

    // THEN no build starts, and the reason names the allowed branches
    expect(await startBuildRequests(moto)).toEqual([]);
    expect(logger.lines[0]?.attributes.reason).toBe(
      "branch 'feature/x' may not deploy project 'demo' (allowed: main, release/*)",
    );
  });

  it('reads a SecureString config, and neither logs nor sends its secret', async () => {
    // GIVEN a message for the project registered as a SecureString with a token
    await moto.startRecording();
    const logger = recordingLogger();
    const message = JSON.stringify({ project: 'private', branch: 'anything/goes' });

    // WHEN the launcher handles it
    const summary = await handleSnsEvent(
      snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000004', message }),
      deps(logger),
    );

    // THEN a build starts, and the parameter was read with decryption
    expect(summary.accepted).toBe(1);
    const requests = await moto.recordedRequests();
    const getParameter = requests.find((r) => r.body.includes('/iwomp-in-aws/private'));
    expect(JSON.parse(getParameter?.body ?? '{}')).toMatchObject({ WithDecryption: true });
    // AND the token is neither sent to CodeBuild nor logged
    const startBuilds = await startBuildRequests(moto);
    expect(startBuilds).toHaveLength(1);
    expect(JSON.stringify(startBuilds)).not.toContain(TOKEN);
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });

  it('rejects a project whose registry document is invalid, without echoing its secret', async () => {
    // GIVEN a SecureString registry document with a token and an invalid deployDir
    await register(
      ssm,
      CONFIG_PATH,
      'broken',
      { gitUrl: 'https://git.example.com/b.git', authToken: TOKEN, command: './d.sh', deployDir: 5 },
      true,
    );
    await moto.startRecording();
    const logger = recordingLogger();
    const message = JSON.stringify({ project: 'broken', branch: 'main' });

    // WHEN the launcher handles a message for it
    const summary = await handleSnsEvent(
      snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000005', message }),
      deps(logger),
    );

    // THEN it is rejected naming the bad key, no build starts, and the token is not logged
    expect(summary.rejected).toBe(1);
    expect(await startBuildRequests(moto)).toEqual([]);
    expect(logger.lines[0]?.attributes.reason).toMatch(/^\/iwomp-in-aws\/broken: deployDir: /);
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN);
  });

  it('sends the same idempotency token for a repeated MessageId, and another for another message', async () => {
    // GIVEN a message, and another with a different MessageId
    await moto.startRecording();
    const message = JSON.stringify({ project: 'demo', branch: 'main' });
    const first = snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000006', message });

    // WHEN the first is handled twice, then the other once
    await handleSnsEvent(first, deps());
    await handleSnsEvent(first, deps()); // SNS redelivery or a Lambda retry: same MessageId
    await handleSnsEvent(snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000007', message }), deps());

    // THEN the repeat carries the same token, the other message another
    const tokens = (await startBuildRequests(moto)).map((r) => r.idempotencyToken);
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toBe(idempotencyTokenFor('c0ffee00-0000-4000-8000-000000000006'));
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(tokens[0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('handles every record of a mixed batch: only the valid, authorized ones start builds', async () => {
    // GIVEN the mixed batch fixture: two valid triggers among four bad ones
    const event = fixture('sns-mixed-batch.json') as { Records: Array<{ Sns: { MessageId: string } }> };
    const before = await buildCount(codebuild, WORKER);
    await moto.startRecording();
    const logger = recordingLogger();

    // WHEN the launcher handles it
    const summary = await handleSnsEvent(event, deps(logger));

    // THEN only the two valid records are accepted, each rejection saying why
    expect(summary.records.map((r) => r.outcome)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'accepted',
    ]);
    expect(summary.records.map((r) => (r.outcome === 'rejected' ? r.reason : ''))).toEqual([
      '',
      'message: unknown key gitUrl',
      "project 'nobody' is not registered (no /iwomp-in-aws/nobody)",
      'message is not valid JSON',
      "branch 'feature/x' may not deploy project 'demo' (allowed: main, release/*)",
      '',
    ]);
    // AND exactly their two builds start, with their tokens and branches
    expect(await buildCount(codebuild, WORKER)).toBe(before + 2);
    const requests = await startBuildRequests(moto);
    expect(requests.map((r) => r.idempotencyToken)).toEqual([
      idempotencyTokenFor(event.Records[0]?.Sns.MessageId ?? ''),
      idempotencyTokenFor(event.Records[5]?.Sns.MessageId ?? ''),
    ]);
    expect(requests[1]?.environmentVariablesOverride).toEqual([
      { name: 'PROJECTNAME', value: 'demo', type: 'PLAINTEXT' },
      { name: 'GITBRANCH', value: 'release/1.0', type: 'PLAINTEXT' },
    ]);
    // AND one log line per record, each naming its message
    expect(logger.lines.map((l) => l.attributes.messageId)).toEqual(
      event.Records.map((r) => r.Sns.MessageId),
    );
  });

  it('fails (throws, so Lambda retries) when the worker project does not exist', async () => {
    // GIVEN a launcher whose worker project does not exist
    const logger = recordingLogger();
    const message = JSON.stringify({ project: 'demo', branch: 'main' });

    // WHEN it handles a valid trigger
    const run = handleSnsEvent(
      snsEvent({ messageId: 'c0ffee00-0000-4000-8000-000000000008', message }),
      deps(logger, 'no-such-worker'),
    );

    // THEN it throws, so Lambda retries, and logs a configuration failure
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TriggerFailedError);
    expect((error as Error).message).toMatch(/worker project 'no-such-worker' not found in CodeBuild/);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      attributes: { outcome: 'failed', failure: 'configuration', project: 'demo', branch: 'main' },
    });
  });

  it('maps a missing worker project to a configuration JobStartError in the adapter', async () => {
    // GIVEN a launcher for a worker project that does not exist
    const launcher = new CodeBuildJobLauncher({ projectName: 'no-such-worker', codebuild });

    // WHEN it starts a build
    const error = await launcher.start({ project: 'demo', branch: 'main' }).catch((e: unknown) => e);

    // THEN it fails with a configuration JobStartError
    expect(error).toBeInstanceOf(JobStartError);
    expect(error).toMatchObject({ kind: 'configuration' });
  });
});
