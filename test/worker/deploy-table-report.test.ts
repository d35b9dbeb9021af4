import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EXPIRES_AT,
  type Item,
  PK,
  recordKey,
  recordToItem,
  WORKER_ATTRIBUTES,
} from '../../src/adapters/aws/deploy-table.js';
import type { DeployRecord } from '../../src/core/deploy-record.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { freePort, type Moto, startMoto } from '../support/moto.js';
import { createRepo } from '../support/repos.js';
import { runWorkerProcess, type WorkerRun } from '../support/worker-process.js';

const TABLE = 'iwomp-deploys';

let root: string;
let registry: string;
let git: GitServer;
let moto: Moto;
let dynamodb: DynamoDBClient;
let mainCommit: string;
let trigger = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-table-report-'));
  registry = join(root, 'registry');
  mkdirSync(registry);
  const repo = createRepo(root, 'app');
  const deploy = (exit: number) => ({
    content: `#!/bin/sh\necho "deploying $1"\nexit ${exit}\n`,
    executable: true,
  });
  mainCommit = repo.commit('main', { 'deploy.sh': deploy(0) });
  repo.commit('fail', { 'deploy.sh': deploy(3) });
  git = await startGitServer(root);
  writeFileSync(
    join(registry, 'app.json'),
    JSON.stringify({ gitUrl: git.url('app.git'), command: './deploy.sh' }),
  );
  moto = await startMoto();
  dynamodb = new DynamoDBClient(moto.clientConfig);
  // The table as the stack makes it (docs/lifecycle.md): partition key pk, no sort key.
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: PK, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: PK, KeyType: 'HASH' }],
    }),
  );
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  await moto?.stop();
  await git?.stop();
  rmSync(root, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.startRecording();
});

/** A record as the launcher leaves it when the build has started. */
async function startedRecord(branch: string): Promise<{ id: string; before: Item }> {
  trigger += 1;
  const id = `5a1c0b7e-0000-4000-8000-${String(trigger).padStart(12, '0')}`;
  const record: DeployRecord = {
    version: 1,
    id,
    project: 'app',
    branch,
    state: 'started',
    createdAt: '2026-11-22T20:00:00.000Z',
    startedAt: '2026-11-22T20:00:01.000Z',
    buildId: 'iwomp-worker:1b2c3d4e',
    logUrl: 'https://console.aws.amazon.com/codesuite/codebuild/projects/iwomp-worker/build/x',
  };
  const before = recordToItem(record, 1_800_000_000);
  await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: before }));
  // From here on, every DynamoDB request the recorder sees is the worker's.
  await moto.startRecording();
  return { id, before };
}

async function readItem(id: string): Promise<Item | undefined> {
  return (
    await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: recordKey(id), ConsistentRead: true }))
  ).Item;
}

function deploy(branch: string, env: Record<string, string>): Promise<WorkerRun> {
  return runWorkerProcess({
    ...moto.env,
    IWOMP_REGISTRY: `file:${registry}`,
    IWOMP_LOCAL: '1',
    PROJECTNAME: 'app',
    GITBRANCH: branch,
    IWOMP_DEPLOY_TABLE: TABLE,
    // This machine's Node is older than the SDK wants: keep its notice out of the logs read here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...env,
  });
}

/** The record's attributes other than the worker's, which nothing else may have changed. */
function othersOf(item: Item | undefined): Record<string, unknown> {
  const all = unmarshall(item ?? {});
  for (const name of WORKER_ATTRIBUTES) delete all[name];
  return all;
}

/** What the worker sent to DynamoDB, as moto's recorder saw it. */
async function dynamoRequests(): Promise<Array<{ target: string; body: Record<string, unknown> }>> {
  return (await moto.recordedRequests())
    .filter((r) => (r.headers['X-Amz-Target'] ?? r.headers['x-amz-target'] ?? '').startsWith('DynamoDB_'))
    .map((r) => ({
      target: r.headers['X-Amz-Target'] ?? r.headers['x-amz-target'] ?? '',
      body: JSON.parse(r.body) as Record<string, unknown>,
    }));
}

describe("the worker's report to its deploy record", () => {
  it('sets phase, deployedCommit and the exit code of a deploy that succeeded, and nothing else', async () => {
    // GIVEN a started record for the trigger
    const { id, before } = await startedRecord('main');

    // WHEN the worker deploys main for it
    const run = await deploy('main', { IWOMP_TRIGGER_ID: id });
    const requests = await dynamoRequests();

    // THEN the record holds the worker's attributes
    expect(run.code).toBe(0);
    const after = unmarshall((await readItem(id)) ?? {});
    expect(after.phase).toBe('command');
    expect(after.deployedCommit).toBe(mainCommit);
    expect(after.reportedExitCode).toBe(0);
    expect(after.reportedReason).toBeUndefined();
    // AND no other attribute changed (state, times, build id, TTL are the launcher's)
    expect(othersOf(await readItem(id))).toEqual(othersOf(before));
    expect(after[EXPIRES_AT]).toBe(1_800_000_000);
    // AND every request was an UpdateItem of the worker's attributes, on an existing record, returning nothing
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const { target, body } of requests) {
      expect(target).toBe('DynamoDB_20120810.UpdateItem');
      expect(body.Key).toEqual(recordKey(id));
      expect(body.ConditionExpression).toBe('attribute_exists(#pk)');
      expect(body.ReturnValues).toBe('NONE');
      const names = Object.entries(body.ExpressionAttributeNames as Record<string, string>)
        .filter(([alias]) => alias !== '#pk')
        .map(([, name]) => name);
      for (const name of names) expect(WORKER_ATTRIBUTES).toContain(name);
    }
    expect(run.stderr).not.toContain('[iwomp] warning');
  });

  it("sets the command's exit status and the one-line reason of a deploy that failed", async () => {
    // GIVEN a started record
    const { id, before } = await startedRecord('fail');

    // WHEN the deploy command exits 3
    const run = await deploy('fail', { IWOMP_TRIGGER_ID: id });

    // THEN the worker exits 3, and so says the record
    expect(run.code).toBe(3);
    const after = unmarshall((await readItem(id)) ?? {});
    expect(after).toMatchObject({
      phase: 'command',
      reportedExitCode: 3,
      reportedReason: 'command failed with exit status 3',
    });
    expect(after.deployedCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(othersOf(await readItem(id))).toEqual(othersOf(before));
  });

  it('reports the outcome of a worker whose environment is wrong', async () => {
    // GIVEN a started record, and a worker with an invalid project name
    const { id } = await startedRecord('main');

    // WHEN the worker starts
    const run = await deploy('main', { IWOMP_TRIGGER_ID: id, PROJECTNAME: '../etc' });

    // THEN it exits with the environment's code, and the record has it with the reason
    expect(run.code).toBe(ExitCode.badEnvironment);
    const after = unmarshall((await readItem(id)) ?? {});
    expect(after.reportedExitCode).toBe(ExitCode.badEnvironment);
    expect(after.reportedReason).toMatch(/^PROJECTNAME: invalid project name/);
    expect(after.phase).toBeUndefined();
  });

  it('never creates a record: a trigger id with no record is a warning, not a failed deploy', async () => {
    // GIVEN a trigger id the table has no record of
    const id = 'no-such-trigger';

    // WHEN the worker deploys for it
    const run = await deploy('main', { IWOMP_TRIGGER_ID: id });

    // THEN the deploy succeeded, each failed write is one warning line, and no record appeared
    expect(run.code).toBe(0);
    const warnings = run.stderr.split('\n').filter((l) => l.includes('warning:'));
    expect(warnings.length).toBeGreaterThan(0);
    for (const line of warnings) {
      expect(line).toMatch(
        /^\[iwomp\] warning: cannot report to the deploy table iwomp-deploys: ConditionalCheckFailedException: /,
      );
    }
    expect(await readItem(id)).toBeUndefined();
  });

  it('is a warning when the table cannot be reached, and the exit code stays the deploy’s', async () => {
    // GIVEN a DynamoDB endpoint nobody listens on
    const { id } = await startedRecord('fail');
    const closed = `http://127.0.0.1:${await freePort()}`;

    // WHEN the deploy fails with 3
    const run = await deploy('fail', {
      IWOMP_TRIGGER_ID: id,
      AWS_ENDPOINT_URL: closed,
      AWS_MAX_ATTEMPTS: '1',
    });

    // THEN the exit code is the command's, and the log says the reports were lost
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^\[iwomp\] warning: cannot report to the deploy table iwomp-deploys: /m);
  });

  it('reports nothing without IWOMP_TRIGGER_ID (a build started by hand), and says so', async () => {
    // WHEN the worker runs with the table but no trigger id
    const run = await deploy('main', {});

    // THEN it deployed, logged why it reports nowhere, and sent nothing to DynamoDB
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      '[iwomp] IWOMP_TRIGGER_ID is not set: this build reports to no deploy record',
    );
    expect(await dynamoRequests()).toEqual([]);
  });

  it('refuses a trigger id the launcher could not have set, in one line', async () => {
    // WHEN the trigger id holds a character outside the MessageId alphabet
    const run = await deploy('main', { IWOMP_TRIGGER_ID: 'abc/../x' });

    // THEN one line names the variable, and nothing ran
    expect(run.code).toBe(ExitCode.badEnvironment);
    expect(run.stderr.trim()).toBe(
      'iwomp: IWOMP_TRIGGER_ID: expected a trigger id (1-128 of [A-Za-z0-9._:-]), got "abc/../x"',
    );
    expect(await dynamoRequests()).toEqual([]);
  });
});
