import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordToItem } from '../../src/adapters/aws/deploy-table.js';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import { type DeployRecord, finalOutcome } from '../../src/core/deploy-record.js';
import { markEnded, markPhase, markQueued, markRunning, markStarted } from '../../src/core/job-record.js';
import { createWorkerProject } from '../launcher/support.js';
import { type CliRun, runCliInProcess } from '../support/cli.js';
import { createDeployTable, writeRecord } from '../support/deploy-table.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createRepo } from '../support/repos.js';

const TABLE = 'iwomp-deploys';
const LOG_GROUP = 'iwomp-worker-logs';
const WORKER = 'iwomp-worker';

let moto: Moto;
let dynamodb: DynamoDBClient;
let logs: CloudWatchLogsClient;
let codebuild: CodeBuildClient;
let root: string;

/** In AWS mode: the table and the log group from the environment, as CI would set them. */
const AWS_ENV = { IWOMPINAWS_DEPLOY_TABLE: TABLE, IWOMPINAWS_WORKER_LOG_GROUP: LOG_GROUP };

beforeAll(async () => {
  moto = await startMoto();
  dynamodb = await createDeployTable(moto, TABLE);
  logs = new CloudWatchLogsClient(moto.clientConfig);
  codebuild = new CodeBuildClient(moto.clientConfig);
  await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
  await createWorkerProject(codebuild, WORKER);
  root = mkdtempSync(join(tmpdir(), 'iwomp-deploys-'));
});

afterAll(async () => {
  await moto?.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(argv: readonly string[], env: Record<string, string> = AWS_ENV, cwd = root): Promise<CliRun> {
  return runCliInProcess(argv, { env, cwd, clients: { dynamodb, logs, codebuild } });
}

function record(project: string, createdAt: string, fields: Partial<DeployRecord> = {}): DeployRecord {
  return { version: 1, id: randomUUID(), project, branch: 'main', state: 'received', createdAt, ...fields };
}

/** A deploy that ran to its end, as the launcher closes it, with its build and log link. */
function succeeded(project: string, createdAt: string, buildUuid = randomUUID()): DeployRecord {
  const started = {
    ...markStarted(markQueued(record(project, createdAt)), new Date(createdAt)),
    buildId: `${WORKER}:${buildUuid}`,
    logUrl: `https://console.aws.amazon.com/codesuite/codebuild/projects/${WORKER}/build/${WORKER}%3A${buildUuid}/log`,
  };
  const running = markPhase(markRunning(started, new Date(createdAt)), 'command');
  return markEnded(running, finalOutcome(running, 'SUCCEEDED'), new Date(Date.parse(createdAt) + 4200));
}

async function putLog(buildUuid: string, ...messages: string[]): Promise<void> {
  await logs
    .send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: buildUuid }))
    .catch(() => undefined);
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: LOG_GROUP,
      logStreamName: buildUuid,
      logEvents: messages.map((message) => ({ message, timestamp: Date.now() })),
    }),
  );
}

describe('iwomp deploys in AWS (moto: DynamoDB, CloudWatch Logs, CodeBuild)', () => {
  it('list: newest first across projects (Scan), one project with --project and --limit (byProject index)', async () => {
    // GIVEN records of two projects, written out of order, and one damaged item
    const a1 = succeeded('listed-a', '2026-11-01T10:00:00.000Z');
    const b1 = record('listed-b', '2026-11-01T11:00:00.000Z', { state: 'queued' });
    const a2 = succeeded('listed-a', '2026-11-01T12:00:00.000Z');
    const a3 = record('listed-a', '2026-11-01T13:00:00.000Z');
    for (const r of [a2, a1, a3, b1]) await writeRecord(dynamodb, TABLE, r);
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { ...recordToItem(record('listed-c', '2026-11-01T09:00:00.000Z')), state: { S: 'exploded' } },
      }),
    );

    // WHEN one project is listed with --limit 2
    const only = await cli(['deploys', 'list', '--project', 'listed-a', '--limit', '2', '--json']);
    // THEN its two newest, newest first
    expect(only).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(only.stdout) as DeployRecord[]).map((r) => r.id)).toEqual([a3.id, a2.id]);

    // WHEN everything is listed
    const all = await cli(['deploys', 'list']);
    // THEN every record, newest first, in the table's columns, and a warning for the damaged one
    expect(all.code).toBe(0);
    const ids = all.stdout
      .split('\n')
      .slice(1)
      .map((line) => line.split(/ +/)[0]);
    expect(ids.filter((id) => [a1, a2, a3, b1].some((r) => r.id === id))).toEqual([
      a3.id,
      a2.id,
      b1.id,
      a1.id,
    ]);
    expect(all.stdout).toMatch(/^ID +PROJECT +BRANCH +STATE +EXIT +CREATED +DURATION$/m);
    expect(all.stdout).toMatch(
      new RegExp(`^${a2.id} +listed-a +main +succeeded +0 +2026-11-01 12:00:00Z +4\\.2s$`, 'm'),
    );
    expect(all.stderr).toMatch(
      /^warning: skipped deploy#[0-9a-f-]+: deploy record deploy#[0-9a-f-]+: state "exploded" is not a job state\n$/,
    );

    // AND a project with no deploy says so on stderr
    const none = await cli(['deploys', 'list', '--project', 'nothing-here']);
    expect(none).toMatchObject({
      code: 0,
      stdout: '',
      stderr: `no deploys of project 'nothing-here' in table ${TABLE}\n`,
    });
  });

  it('show: the record, its build and its log link; unknown and malformed ids in one line', async () => {
    // GIVEN
    const done = succeeded('shown', '2026-11-02T10:00:00.000Z');
    await writeRecord(dynamodb, TABLE, done);
    // WHEN
    const show = await cli(['deploys', 'show', done.id]);
    // THEN
    expect(show).toMatchObject({ code: 0, stderr: '' });
    expect(show.stdout).toContain(`id:         ${done.id}\n`);
    expect(show.stdout).toContain('state:      succeeded (exit 0)\n');
    expect(show.stdout).toContain(`build:      ${done.buildId}\n`);
    expect(show.stdout).toContain(`log:        ${done.logUrl}\n`);
    const json = JSON.parse((await cli(['deploys', 'show', done.id, '--json'])).stdout);
    expect(json).toEqual({
      id: done.id,
      project: 'shown',
      branch: 'main',
      state: 'succeeded',
      exitCode: 0,
      createdAt: done.createdAt,
      startedAt: done.startedAt,
      finishedAt: done.finishedAt,
      buildId: done.buildId,
      logLocation: done.logUrl,
    });
    // AND a reason carrying a terminal escape sequence is shown escaped, never acted on
    const hostile = markEnded(
      markQueued(record('shown', '2026-11-02T11:00:00.000Z')),
      { state: 'failed', reason: 'boom \u001b[2J\u001b]0;owned\u0007' },
      new Date('2026-11-02T11:00:01.000Z'),
    );
    await writeRecord(dynamodb, TABLE, hostile);
    const shownHostile = await cli(['deploys', 'show', hostile.id]);
    expect(shownHostile.stdout).toContain('error:      boom \\x1b[2J\\x1b]0;owned\\x07\n');
    expect(shownHostile.stdout).not.toContain('\u001b');
    // AND an unknown id is exit 4, a malformed one exit 3, each in one line
    const missing = await cli(['deploys', 'show', '00000000-0000-0000-0000-000000000000']);
    expect(missing).toMatchObject({
      code: CliExitCode.notFound,
      stderr: `iwomp: no deploy '00000000-0000-0000-0000-000000000000' in table ${TABLE} (see: iwomp deploys list)\n`,
    });
    const bad = await cli(['deploys', 'show', '../lane#x']);
    expect(bad).toMatchObject({
      code: CliExitCode.invalidInput,
      stderr: 'iwomp: invalid deploy id "../lane#x"\n',
    });
  });

  it("logs: the worker's CloudWatch stream; --follow streams it until the record closes", async () => {
    // GIVEN a running deploy whose build has logged two lines
    const buildUuid = randomUUID();
    const done = succeeded('logged', new Date().toISOString(), buildUuid);
    const { finishedAt: _f, exitCode: _e, ...rest } = done;
    const running: DeployRecord = { ...rest, state: 'running', phase: 'command' };
    await writeRecord(dynamodb, TABLE, running);
    await putLog(buildUuid, '[iwomp] fetching main\n', 'deploy output: one');

    // WHEN its log is printed
    const now = await cli(['deploys', 'logs', running.id]);
    // THEN the lines so far, each whole
    expect(now).toMatchObject({ code: 0, stderr: '', stdout: '[iwomp] fetching main\ndeploy output: one\n' });

    // WHEN it is followed, and the build logs more and ends
    let stdout = '';
    let stderr = '';
    const following = runCli(['deploys', 'logs', running.id, '--follow'], {
      env: AWS_ENV,
      cwd: root,
      clients: { dynamodb, logs, codebuild },
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    });
    for (let i = 0; i < 200 && !stdout.includes('deploy output: one'); i++) await sleep(25);
    await putLog(buildUuid, 'deploy output: two\n');
    await writeRecord(dynamodb, TABLE, done);
    // THEN it printed the whole log, then the end
    expect(await following).toBe(0);
    expect(stdout).toBe('[iwomp] fetching main\ndeploy output: one\ndeploy output: two\n');
    expect(stderr).toBe(`» deploy ${done.id} succeeded (exit 0)\n`);

    // AND a deploy that never started has no log, and says so
    const queued = markQueued(record('logged', new Date().toISOString()));
    await writeRecord(dynamodb, TABLE, queued);
    const empty = await cli(['deploys', 'logs', queued.id]);
    expect(empty).toMatchObject({
      code: 0,
      stdout: '',
      stderr: `deploy ${queued.id} is queued: no log yet, or none\n`,
    });
  });

  it('cancel: stops the build of a running deploy and waits for the launcher to record it; a queued one is refused', async () => {
    // GIVEN a deploy whose build runs
    const build = await codebuild.send(new StartBuildCommand({ projectName: WORKER }));
    const buildId = build.build?.id ?? '';
    const started = {
      ...markStarted(markQueued(record('cancelled', new Date().toISOString())), new Date()),
      buildId,
    };
    const running = markRunning(started, new Date());
    await writeRecord(dynamodb, TABLE, running);

    // WHEN it is cancelled, and the launcher records the STOPPED event once StopBuild was asked
    // (moto's BatchGetBuilds says SUCCEEDED whatever happened: its request log tells instead)
    await moto.startRecording();
    const cancelling = cli(['deploys', 'cancel', running.id]);
    let stops: string[] = [];
    for (let i = 0; i < 400 && stops.length === 0; i++) {
      await sleep(25);
      stops = (await moto.recordedRequests())
        .filter((r) => r.headers['X-Amz-Target'] === 'CodeBuild_20161006.StopBuild')
        .map((r) => r.body);
    }
    expect(stops.map((body) => JSON.parse(body))).toEqual([{ id: buildId }]);
    await writeRecord(dynamodb, TABLE, markEnded(running, finalOutcome(running, 'STOPPED'), new Date()));
    // THEN
    expect(await cancelling).toMatchObject({
      code: 0,
      stderr: '',
      stdout: `cancelled deploy ${running.id} (it was running)\n`,
    });

    // AND a deploy still waiting for its lane is refused in one line, naming why
    const queued = markQueued(record('cancelled', new Date().toISOString()));
    await writeRecord(dynamodb, TABLE, queued);
    const refused = await cli(['deploys', 'cancel', queued.id]);
    expect(refused).toMatchObject({
      code: CliExitCode.invalidInput,
      stderr: `iwomp: deploy ${queued.id} is queued: a deploy that has not started cannot be cancelled from the CLI in AWS yet; a newer trigger of its branch supersedes it\n`,
    });
  });
});

describe('iwomp deploys: the same output in AWS and local mode', () => {
  it('show, list and logs --json have the same fields for a succeeded deploy; jobs stays local', async () => {
    // GIVEN a local deploy that succeeded
    const repo = createRepo(root, 'app');
    repo.commit('main', { 'deploy.sh': { content: '#!/bin/sh\necho deployed\n', executable: true } });
    const cwd = join(root, 'local-case');
    mkdirSync(cwd, { recursive: true });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
    const local = (argv: readonly string[]) => cli(argv, env, cwd);
    expect(
      await local([
        'projects',
        'put',
        'app',
        '--local',
        '--git-url',
        `file://${repo.bare}`,
        '--command',
        './deploy.sh',
      ]),
    ).toMatchObject({ code: 0 });
    const triggered = await local(['trigger', 'app', 'main', '--local', '--wait', '--no-commit']);
    expect(triggered.code).toBe(0);
    const localId = triggered.stdout.trim();
    // AND one in AWS, with no commit either
    const buildUuid = randomUUID();
    const inAws = succeeded('app', new Date().toISOString(), buildUuid);
    await writeRecord(dynamodb, TABLE, inAws);
    await putLog(buildUuid, 'deployed\n');

    // WHEN each is shown, listed and its log read with --json
    const localShow = JSON.parse((await local(['deploys', 'show', localId, '--local', '--json'])).stdout);
    const awsShow = JSON.parse((await cli(['deploys', 'show', inAws.id, '--json'])).stdout);
    const localList = JSON.parse((await local(['deploys', 'list', '--local', '--json'])).stdout);
    const awsList = JSON.parse((await cli(['deploys', 'list', '--project', 'app', '--json'])).stdout);
    const localLogs = JSON.parse((await local(['deploys', 'logs', localId, '--local', '--json'])).stdout);
    const awsLogs = JSON.parse((await cli(['deploys', 'logs', inAws.id, '--json'])).stdout);

    // THEN the fields are the same, AWS adding only its build id
    const common = (o: object) => Object.keys(o).filter((k) => k !== 'buildId');
    expect(common(awsShow)).toEqual(common(localShow));
    expect(common(awsShow)).toEqual([
      'id',
      'project',
      'branch',
      'state',
      'exitCode',
      'createdAt',
      'startedAt',
      'finishedAt',
      'logLocation',
    ]);
    expect(common(awsList[0])).toEqual(common(localList[0]));
    expect(localShow).toMatchObject({
      id: localId,
      state: 'succeeded',
      logLocation: join(cwd, '.iwomp', 'jobs', `${localId}.log`),
    });
    expect(Object.keys(awsLogs)).toEqual(Object.keys(localLogs));
    expect(awsLogs).toEqual({ id: inAws.id, state: 'succeeded', exitCode: 0, log: 'deployed\n' });
    expect(localLogs.log).toContain('deployed\n');

    // AND `jobs`, the former name, reads local mode's jobs even with a table in the environment
    const jobs = await cli(['jobs', 'list', '--json'], { ...env, ...AWS_ENV }, cwd);
    expect((JSON.parse(jobs.stdout) as DeployRecord[]).map((j) => j.id)).toEqual([localId]);
    // AND --table has no meaning in local mode
    const table = await local(['deploys', 'list', '--local', '--table', TABLE]);
    expect(table).toMatchObject({
      code: CliExitCode.usage,
      stderr: 'iwomp: --table has no meaning with --local\n',
    });
  });
});
