import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordKey } from '../../src/adapters/aws/deploy-table.js';
import { DynamoDeployStore } from '../../src/adapters/aws/dynamo-deploy-store.js';
import { admit, type LaneEntry } from '../../src/core/deploy-lane.js';
import type { DeployRecord } from '../../src/core/deploy-record.js';
import { markQueued, markRunning, markStarted } from '../../src/core/job-record.js';
import { createDeployTable } from '../launcher/support.js';
import { type Moto, startMoto } from '../support/moto.js';

const TABLE = 'iwomp-deploys';
let moto: Moto;
let dynamodb: DynamoDBClient;
let store: DynamoDeployStore;

const received = (id: string, project = 'demo', branch = 'main'): DeployRecord => ({
  version: 1,
  id,
  project,
  branch,
  state: 'received',
  createdAt: '2026-01-01T00:00:00.000Z',
});

beforeAll(async () => {
  moto = await startMoto();
  dynamodb = new DynamoDBClient(moto.clientConfig);
  await createDeployTable(dynamodb, TABLE);
  store = new DynamoDeployStore({ tableName: TABLE, dynamodb, retentionDays: 30 });
});

afterAll(async () => {
  await moto?.stop();
});

describe('DynamoDeployStore records', () => {
  it('creates a record once; a second create reports the existing record, unchanged', async () => {
    // GIVEN a record created and then moved on
    const first = await store.create(received('m-1'));
    await store.move({ from: 'received', record: markQueued(first.record) });

    // WHEN the same trigger is recorded again (a redelivery)
    const again = await store.create({ ...received('m-1'), branch: 'other' });

    // THEN the first create wrote it, the second wrote nothing and returned what is stored
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, record: { ...received('m-1'), state: 'queued' } });
  });

  it('stores expiresAt as createdAt plus the retention, in epoch seconds', async () => {
    // GIVEN / WHEN a record created with a retention of 30 days
    await store.create(received('m-ttl'));

    // THEN its TTL attribute is 30 days after its creation
    const out = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: recordKey('m-ttl') }));
    expect(out.Item?.expiresAt).toEqual({
      N: String(Date.parse('2026-01-01T00:00:00.000Z') / 1000 + 30 * 86_400),
    });
  });

  it('moves a record only from the state it was read in', async () => {
    // GIVEN a queued record
    const { record } = await store.create(received('m-2'));
    const queued = markQueued(record);
    expect(await store.move({ from: 'received', record: queued })).toBe(true);

    // WHEN a second writer, still believing it received, tries to move it
    const stale = await store.move({
      from: 'received',
      record: { ...queued, state: 'rejected', error: 'x' },
    });

    // THEN it is refused and the record keeps the first move
    expect(stale).toBe(false);
    expect((await store.get('m-2'))?.state).toBe('queued');
  });

  it('never overwrites what the worker reported about itself', async () => {
    // GIVEN a started record whose worker has reported its phase and outcome
    const { record } = await store.create(received('m-3'));
    const started = markStarted(markQueued(record), new Date('2026-01-01T00:01:00Z'));
    await store.move({ from: 'received', record: markQueued(record) });
    await store.move({ from: 'queued', record: { ...started, buildId: 'w:1' } });
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: recordKey('m-3'),
        UpdateExpression: 'SET phase = :p, reportedExitCode = :e',
        ExpressionAttributeValues: { ':p': { S: 'command' }, ':e': { N: '0' } },
      }),
    );

    // WHEN the launcher marks it running from its older copy (phase clone)
    await store.move({ from: 'started', record: markRunning({ ...started, buildId: 'w:1' }, new Date()) });

    // THEN the worker's phase and exit code are kept
    const now = await store.get('m-3');
    expect(now).toMatchObject({ state: 'running', phase: 'command', reportedExitCode: 0, buildId: 'w:1' });
  });
});

describe('DynamoDeployStore lanes', () => {
  it('lets exactly one of 24 concurrent admissions hold the lane, and loses none', async () => {
    // GIVEN 24 received triggers for one project
    const ids = Array.from({ length: 24 }, (_, i) => `c-${i}`);
    await Promise.all(ids.map((id) => store.create(received(id, 'busy'))));

    // WHEN each is admitted by its own concurrent lane change (queue mode)
    const starts = await Promise.all(
      ids.map((id) =>
        store.changeLane('busy', async (stored) => {
          const entry: LaneEntry = { id, branch: 'main' };
          const decision = admit(stored.lane, entry, 'queue');
          const record = (await store.get(id)) as DeployRecord;
          return {
            lane: { lane: decision.lane },
            moves:
              record.state === 'received' ? [{ from: 'received' as const, record: markQueued(record) }] : [],
            result: decision.start?.id,
          };
        }),
      ),
    );

    // THEN one was told to start, the lane holds it and the 23 others in order of arrival, and
    // every record is queued
    const started = starts.filter((s) => s !== undefined);
    expect(started).toHaveLength(1);
    const stored = await store.readLane('busy');
    expect(stored.lane.holder?.id).toBe(started[0]);
    expect(stored.lane.waiting).toHaveLength(23);
    expect(new Set([stored.lane.holder?.id, ...stored.lane.waiting.map((e) => e.id)])).toEqual(new Set(ids));
    expect(stored.version).toBe(24);
    const states = await Promise.all(ids.map(async (id) => (await store.get(id))?.state));
    expect(states.every((s) => s === 'queued')).toBe(true);
  });

  it('writes neither the lane nor the records when one record moved meanwhile', async () => {
    // GIVEN a received record that another writer rejects while the lane change is decided
    await store.create(received('r-1', 'raced'));
    let calls = 0;

    // WHEN the change, decided on the stale record, is written
    const result = await store.changeLane('raced', async (stored) => {
      calls++;
      const record = (await store.get('r-1')) as DeployRecord;
      if (calls === 1) await store.move({ from: 'received', record: { ...record, state: 'rejected' } });
      return {
        lane: { lane: admit(stored.lane, { id: 'r-1', branch: 'main' }, 'queue').lane },
        moves: record.state === 'received' ? [{ from: 'received' as const, record: markQueued(record) }] : [],
        result: record.state,
      };
    });

    // THEN the first attempt was refused and the second decided on the rejected record
    expect(calls).toBe(2);
    expect(result).toBe('rejected');
    expect((await store.get('r-1'))?.state).toBe('rejected');
    expect((await store.readLane('raced')).version).toBe(1);
  });

  it('lists every lane, and no record, for the reconcile', async () => {
    // GIVEN lanes written above, and records
    // WHEN listing lanes
    const lanes = await store.listLanes();

    // THEN exactly the lanes written come back, by project
    expect(lanes.map((l) => l.project).sort()).toEqual(['busy', 'raced']);
  });
});
