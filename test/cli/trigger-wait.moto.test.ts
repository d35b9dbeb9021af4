import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import { type DeployRecord, finalOutcome } from '../../src/core/deploy-record.js';
import {
  markEnded,
  markPhase,
  markQueued,
  markRejected,
  markRunning,
  markStarted,
  markSuperseded,
} from '../../src/core/job-record.js';
import { createDeployTable, writeRecord } from '../support/deploy-table.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createStackWithOutputs, createTopicWithQueue, type TopicQueue } from '../support/sns-queue.js';

const TABLE = 'iwomp-deploys';
const LOG_GROUP = 'iwomp-worker-logs';

let moto: Moto;
let topic: TopicQueue;
let dynamodb: DynamoDBClient;
let logs: CloudWatchLogsClient;
let clients: {
  sns: SNSClient;
  cloudFormation: CloudFormationClient;
  dynamodb: DynamoDBClient;
  logs: CloudWatchLogsClient;
};
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  topic = await createTopicWithQueue(moto, 'iwomp-jobs');
  dynamodb = await createDeployTable(moto, TABLE);
  logs = new CloudWatchLogsClient(moto.clientConfig);
  await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
  clients = {
    sns: new SNSClient(moto.clientConfig),
    cloudFormation: new CloudFormationClient(moto.clientConfig),
    dynamodb,
    logs,
  };
  // The stack as the infra outputs it: CI names nothing but the stack (iwomp, by default).
  await createStackWithOutputs(moto, 'iwomp', {
    JobTopicArn: topic.topicArn,
    DeployTableName: TABLE,
    WorkerLogGroupName: LOG_GROUP,
  });
  dir = mkdtempSync(join(tmpdir(), 'iwomp-trigger-wait-'));
});

afterAll(async () => {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  while (await topic.next(0)) {}
});

/** A CLI run going on in this process: what it printed so far, and its exit code once it ends. */
interface RunningCli {
  stdout(): string;
  stderr(): string;
  readonly done: Promise<number>;
}

function startCli(argv: readonly string[], env: Record<string, string> = {}): RunningCli {
  let stdout = '';
  let stderr = '';
  const done = runCli(argv, {
    env,
    cwd: dir,
    clients,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { stdout: () => stdout, stderr: () => stderr, done };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Publishes through the CLI with --wait and returns the message id the launcher would get. */
async function triggerAndWait(extra: readonly string[] = [], env: Record<string, string> = {}) {
  const cli = startCli(['trigger', 'demo', 'main', '--no-commit', '--wait', ...extra], env);
  const delivered = await topic.next(5);
  if (delivered === undefined) throw new Error(`nothing published: ${cli.stderr()}`);
  return { cli, id: delivered.messageId };
}

/** The launcher's and CodeBuild's part: writes the record and waits until the CLI has shown it. */
function launcher(cli: RunningCli, id: string) {
  const received: DeployRecord = {
    version: 1,
    id,
    project: 'demo',
    branch: 'main',
    state: 'received',
    createdAt: new Date().toISOString(),
  };
  return {
    received,
    async write(record: DeployRecord, shown: RegExp) {
      await writeRecord(dynamodb, TABLE, record);
      await until(() => shown.test(cli.stderr()), `${shown} on stderr:\n${cli.stderr()}`);
      return record;
    },
  };
}

const uuid = () => randomUUID();
const build = (buildUuid: string) => ({
  buildId: `iwomp-worker:${buildUuid}`,
  logUrl: `https://console.aws.amazon.com/codesuite/codebuild/projects/iwomp-worker/build/iwomp-worker%3A${buildUuid}/log`,
});

describe('iwomp trigger --wait against AWS (moto: SNS, DynamoDB, CloudWatch Logs)', () => {
  it('follows the record from received to succeeded, shows each state and the time, exits 0', async () => {
    // GIVEN a trigger published with --wait (no --logs), whose record the launcher writes only after a moment
    await moto.startRecording();
    const { cli, id } = await triggerAndWait(['--topic-arn', topic.topicArn, '--table', TABLE]);
    const l = launcher(cli, id);
    await sleep(1500);
    expect(cli.stderr()).toBe(`» deploy ${id}\n`);

    // WHEN the record moves received → queued → started → running(clone, command) → succeeded
    const received = await l.write(l.received, /^» demo main · received · \d+\.\ds$/m);
    const queued = await l.write(markQueued(received), /· queued ·/);
    const started = await l.write({ ...markStarted(queued, new Date()), ...build(uuid()) }, /· started ·/);
    const cloning = await l.write(markRunning(started, new Date()), /· running: clone ·/);
    const command = await l.write(markPhase(cloning, 'command'), /· running: command ·/);
    await writeRecord(dynamodb, TABLE, markEnded(command, finalOutcome(command, 'SUCCEEDED'), new Date()));

    // THEN it exits 0, having shown every state once, in order, each with the elapsed time
    expect(await cli.done).toBe(CliExitCode.ok);
    const lines = cli.stderr().trimEnd().split('\n');
    expect(lines[0]).toBe(`» deploy ${id}`);
    expect(lines.slice(1).map((line) => line.replace(/ · \d+\.\ds$/, ''))).toEqual([
      '» demo main · received',
      '» demo main · queued',
      '» demo main · started',
      '» demo main · running: clone',
      '» demo main · running: command',
      '» demo main · succeeded (exit 0)',
    ]);
    // AND without --logs it read the record only, never the log (grantWatch without logs allows no more)
    const targets = (await moto.recordedRequests()).map((r) => r.headers['X-Amz-Target'] ?? r.url);
    expect(targets.filter((t) => /Logs_|logs\./i.test(t))).toEqual([]);
    // AND stdout is the publish's result, as without --wait
    expect(cli.stdout()).toBe(
      `published {"project":"demo","branch":"main"} to ${topic.topicArn}\nmessage id: ${id}\n`,
    );
  });

  it('exits 7 when the deploy failed, with the reason, the log link and the worker’s exit code', async () => {
    // GIVEN a running deploy whose command then fails with 3, as the worker reports it
    const { cli, id } = await triggerAndWait(['--topic-arn', topic.topicArn, '--table', TABLE, '--json']);
    const l = launcher(cli, id);
    const links = build(uuid());
    const started = await l.write(
      { ...markStarted(markQueued(l.received), new Date()), ...links },
      /· started ·/,
    );
    const running = markPhase(markRunning(started, new Date()), 'command');
    const reported = { ...running, reportedExitCode: 3, reportedReason: 'deploy command exited 3' };
    // WHEN the build ends FAILED
    await writeRecord(dynamodb, TABLE, markEnded(reported, finalOutcome(reported, 'FAILED'), new Date()));
    // THEN
    expect(await cli.done).toBe(CliExitCode.failed);
    expect(cli.stderr()).toMatch(/^» demo main · failed \(exit 3\) · \d+\.\ds$/m);
    expect(cli.stderr()).toContain(
      `iwomp: deploy ${id} failed: deploy command exited 3 (log: ${links.logUrl})\n`,
    );
    expect(JSON.parse(cli.stdout())).toMatchObject({
      backend: 'aws',
      messageId: id,
      state: 'failed',
      workerExitCode: 3,
      reason: 'deploy command exited 3',
      deploy: { id, state: 'failed', exitCode: 3, buildId: links.buildId, logLocation: links.logUrl },
    });
  });

  it('exits 6 when the launcher rejected the trigger, with its reason', async () => {
    // GIVEN
    const { cli, id } = await triggerAndWait(['--topic-arn', topic.topicArn, '--table', TABLE]);
    const l = launcher(cli, id);
    const received = await l.write(l.received, /· received ·/);
    // WHEN
    const reason = "branch 'main' may not deploy project 'demo' (allowed: release/*)";
    await writeRecord(dynamodb, TABLE, markRejected(received, reason, new Date()));
    // THEN
    expect(await cli.done).toBe(CliExitCode.rejected);
    expect(cli.stderr()).toMatch(/^» demo main · rejected · \d+\.\ds$/m);
    expect(cli.stderr()).toContain(`iwomp: deploy ${id} rejected: ${reason}\n`);
  });

  it('exits 8 when a newer trigger superseded it while it waited', async () => {
    // GIVEN a queued trigger
    const { cli, id } = await triggerAndWait(['--topic-arn', topic.topicArn, '--table', TABLE]);
    const l = launcher(cli, id);
    const queued = await l.write(markQueued(l.received), /· queued ·/);
    // WHEN a newer trigger of the branch takes its place
    await writeRecord(dynamodb, TABLE, markSuperseded(queued, 'newer-message-id', new Date()));
    // THEN
    expect(await cli.done).toBe(CliExitCode.superseded);
    expect(cli.stderr()).toContain(
      `iwomp: deploy ${id} superseded: superseded by newer-message-id, a newer trigger of the same branch\n`,
    );
  });

  it('exits 10 when the build was stopped', async () => {
    // GIVEN a running deploy
    const { cli, id } = await triggerAndWait(['--topic-arn', topic.topicArn, '--table', TABLE]);
    const l = launcher(cli, id);
    const started = await l.write(
      { ...markStarted(markQueued(l.received), new Date()), ...build(uuid()) },
      /· started ·/,
    );
    // WHEN CodeBuild says STOPPED before the worker reported anything
    await writeRecord(dynamodb, TABLE, markEnded(started, finalOutcome(started, 'STOPPED'), new Date()));
    // THEN
    expect(await cli.done).toBe(CliExitCode.cancelled);
    expect(cli.stderr()).toContain(`iwomp: deploy ${id} cancelled: the build was stopped (log: `);
  });

  it('exits 9 when --timeout passes first, saying the deploy goes on and how to follow it', async () => {
    // GIVEN a trigger that stays queued
    const started = Date.now();
    const { cli, id } = await triggerAndWait([
      '--topic-arn',
      topic.topicArn,
      '--table',
      TABLE,
      '--timeout',
      '2s',
      '--json',
    ]);
    const l = launcher(cli, id);
    await l.write(markQueued(l.received), /· queued ·/);
    // WHEN nothing more happens
    const code = await cli.done;
    // THEN it exits 9 after about 2 s, the record as it stood in the JSON
    expect(code).toBe(CliExitCode.timedOut);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(cli.stderr()).toMatch(
      new RegExp(
        `\\niwomp: stopped waiting for deploy ${id} after 2s \\(--timeout\\); it goes on\\. Follow it: iwomp deploys logs ${id} --follow\\n$`,
      ),
    );
    expect(JSON.parse(cli.stdout())).toMatchObject({ messageId: id, state: 'queued' });
  });

  it('--timeout also bounds the wait for a record that never appears', async () => {
    // GIVEN a launcher that never records the trigger
    const { cli, id } = await triggerAndWait([
      '--topic-arn',
      topic.topicArn,
      '--table',
      TABLE,
      '--timeout',
      '1s',
    ]);
    // WHEN / THEN
    expect(await cli.done).toBe(CliExitCode.timedOut);
    expect(cli.stderr()).toContain(`iwomp: stopped waiting for deploy ${id} after 1s (--timeout)`);
  });

  it('with the stack alone (topic, table, log group from its outputs), --logs streams the worker log', async () => {
    // GIVEN a trigger with --wait --logs and no other flag, and a build whose log CodeBuild writes
    const { cli, id } = await triggerAndWait(['--logs']);
    const l = launcher(cli, id);
    const buildUuid = uuid();
    // CodeBuild's stream is the build id's part after the project name.
    await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: buildUuid }));
    const put = (...messages: string[]) =>
      logs.send(
        new PutLogEventsCommand({
          logGroupName: LOG_GROUP,
          logStreamName: buildUuid,
          logEvents: messages.map((message) => ({ message, timestamp: Date.now() })),
        }),
      );
    const started = await l.write(
      { ...markStarted(markQueued(l.received), new Date()), ...build(buildUuid) },
      /· started ·/,
    );
    await put('[Container] Entering phase BUILD\n', '[iwomp] fetching main');
    const running = await l.write(markRunning(started, new Date()), /· running: clone ·/);
    await until(() => cli.stderr().includes('[iwomp] fetching main\n'), 'the first log lines');
    // WHEN the command prints and the deploy ends
    await put('deploy output: main\n');
    await writeRecord(dynamodb, TABLE, markEnded(running, finalOutcome(running, 'SUCCEEDED'), new Date()));
    // THEN the log is on stderr, in order, each line whole, before the final line
    expect(await cli.done).toBe(CliExitCode.ok);
    const err = cli.stderr();
    expect(err).toContain('[Container] Entering phase BUILD\n[iwomp] fetching main\n');
    expect(err.indexOf('deploy output: main\n')).toBeGreaterThan(err.indexOf('[iwomp] fetching main'));
    expect(err.indexOf('deploy output: main\n')).toBeLessThan(err.indexOf('succeeded (exit 0)'));
  });

  it('a stack without the table output is said before anything is published', async () => {
    // GIVEN a stack from before deploy records
    await createStackWithOutputs(moto, 'iwomp-old', { JobTopicArn: topic.topicArn });
    // WHEN
    const cli = startCli(['trigger', 'demo', 'main', '--no-commit', '--wait', '--stack-name', 'iwomp-old']);
    // THEN one line, exit 4, and nothing published
    expect(await cli.done).toBe(CliExitCode.notFound);
    expect(cli.stderr()).toBe(
      "iwomp: stack 'iwomp-old' has no output DeployTableName: update the stack (./bin/deploy_infra.sh): deploy records came with it\n",
    );
    expect(await topic.next(0)).toBeUndefined();
  });

  it('a table that cannot be read is said before anything is published', async () => {
    // GIVEN a table name that is wrong
    const cli = startCli(['trigger', 'demo', 'main', '--no-commit', '--wait', '--table', 'iwomp-typo']);
    // WHEN / THEN one line, exit 5, and nothing published
    expect(await cli.done).toBe(CliExitCode.service);
    expect(cli.stderr()).toMatch(
      /^iwomp: cannot read the deploy table iwomp-typo: ResourceNotFoundException: [^\n]*\n$/,
    );
    expect(await topic.next(0)).toBeUndefined();
  });

  it('refuses --timeout, --logs and --table without --wait, and a malformed duration or table', async () => {
    for (const [argv, message] of [
      [['--timeout', '5m'], 'iwomp: --timeout needs --wait\n'],
      [['--logs'], 'iwomp: --logs needs --wait\n'],
      [['--table', TABLE], 'iwomp: --table needs --wait\n'],
      [
        ['--wait', '--timeout', '30'],
        'iwomp: --timeout: expected a duration such as 90s, 30m or 1h30m, got "30"\n',
      ],
      [
        ['--wait', '--table', 'a b'],
        'iwomp: --table: "a b" is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)\n',
      ],
    ] as const) {
      const cli = startCli([
        'trigger',
        'demo',
        'main',
        '--no-commit',
        '--topic-arn',
        topic.topicArn,
        ...argv,
      ]);
      expect(await cli.done).toBe(CliExitCode.usage);
      expect(cli.stderr()).toBe(message);
    }
    const badEnv = startCli(['trigger', 'demo', 'main', '--no-commit', '--wait'], {
      IWOMPINAWS_DEPLOY_TABLE: 'x',
    });
    expect(await badEnv.done).toBe(CliExitCode.invalidInput);
    expect(badEnv.stderr()).toMatch(/^iwomp: IWOMPINAWS_DEPLOY_TABLE: "x" is not a DynamoDB table name/);
    expect(await topic.next(0)).toBeUndefined();
  });
});
