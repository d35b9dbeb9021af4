import { describe, expect, it } from 'vitest';
import {
  itemToLane,
  itemToRecord,
  laneToItem,
  recordKey,
  recordToItem,
} from '../../src/adapters/aws/deploy-table.js';
import type { DeployRecord } from '../../src/core/deploy-record.js';

const record: DeployRecord = {
  version: 1,
  id: '5f1e4a2b-0000-4000-8000-000000000001',
  project: 'demo',
  branch: 'main',
  commit: 'c'.repeat(40),
  state: 'started',
  createdAt: '2026-11-22T10:00:00.000Z',
  startedAt: '2026-11-22T10:00:01.000Z',
  buildId: 'iwomp-worker:1234',
};

describe('deploy table items', () => {
  it('stores a record under deploy#<id> with its TTL, and reads it back whole', () => {
    // GIVEN a record and a TTL
    // WHEN it is written as an item and read back
    const item = recordToItem(record, 1_800_000_000);
    // THEN the key, the TTL and every field survive; the TTL is not part of the record
    expect(item.pk).toEqual({ S: `deploy#${record.id}` });
    expect(item.expiresAt).toEqual({ N: '1800000000' });
    expect(item).not.toHaveProperty('phase');
    expect(itemToRecord(item)).toEqual(record);
    expect(recordKey('x')).toEqual({ pk: { S: 'deploy#x' } });
  });

  it('refuses an item that is not a record, naming the field', () => {
    const item = recordToItem(record);
    expect(() => itemToRecord({ ...item, state: { S: 'lost' } })).toThrow(/state "lost" is not a job state/);
    expect(() => itemToRecord({ ...item, exitCode: { S: '0' } })).toThrow(/exitCode is not an integer/);
    const { branch: _b, ...noBranch } = item;
    expect(() => itemToRecord(noBranch)).toThrow(/branch is not a string/);
  });

  it('stores a lane with its version, and reads a missing lane as idle at version 0', () => {
    // GIVEN a held lane with one waiting trigger
    const stored = {
      lane: { holder: { id: 'a', branch: 'main' }, waiting: [{ id: 'b', branch: 'dev' }] },
      holderBuildId: 'w:1',
      leaseUntil: 1_800_000_000,
      version: 3,
    };
    // WHEN it round-trips
    const item = laneToItem('demo', stored);
    // THEN it is under lane#<project> and reads back equal; no item means idle, version 0
    expect(item.pk).toEqual({ S: 'lane#demo' });
    // AND a lane with work is in the reconcile's sparse index; an idle one is not
    expect(item.active).toEqual({ S: 'lane' });
    expect(
      laneToItem('demo', { lane: { waiting: [{ id: 'b', branch: 'dev' }] }, version: 1 }).active,
    ).toEqual({
      S: 'lane',
    });
    expect(laneToItem('demo', { lane: { waiting: [] }, version: 5 })).not.toHaveProperty('active');
    expect(itemToLane(item)).toEqual(stored);
    expect(itemToLane(undefined)).toEqual({ lane: { waiting: [] }, version: 0 });
    expect(itemToLane(laneToItem('demo', { lane: { waiting: [] }, version: 4 }))).toEqual({
      lane: { waiting: [] },
      version: 4,
    });
    expect(() => itemToLane({ ...item, waiting: { L: [{ S: 'x' }] } })).toThrow(/not \{id, branch\}/);
  });
});
