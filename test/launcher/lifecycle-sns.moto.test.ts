import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeployRecord, deployResultOf } from '../../src/core/deploy-record.js';
import { handleSnsEvent } from '../../src/launcher/handle-sns-event.js';
import { type Moto, startMoto } from '../support/moto.js';
import { type LifecycleWorld, lifecycleWorld, trigger } from './lifecycle-support.js';
import { buildCount, snsEvent, startBuildRequests } from './support.js';

let moto: Moto;
let world: LifecycleWorld;

beforeAll(async () => {
  moto = await startMoto();
  world = await lifecycleWorld(moto, 'iwomp-deploys-sns');
  await world.registerProject('queued-app', { concurrency: 'queue' });
  await world.registerProject('super-app');
  for (let p = 0; p < 5; p++) await world.registerProject(`multi-${p}`, { concurrency: 'queue' });
  await world.registerProject('plain');
});

afterAll(async () => {
  await moto?.stop();
});

const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

describe('one deploy at a time per project (SNS flow against moto)', () => {
  it('starts exactly one build of 24 concurrent triggers in queue mode; the 23 others wait in order, none lost', async () => {
    // GIVEN a project in queue mode and 24 distinct triggers for it
    const worker = await world.newWorker('w-queue');
    const messageIds = ids('q', 24);

    // WHEN 24 launcher invocations handle them at the same time
    const summaries = await Promise.all(
      messageIds.map((id) =>
        handleSnsEvent(snsEvent({ messageId: id, message: trigger('queued-app') }), world.deps(worker)),
      ),
    );

    // THEN CodeBuild holds exactly one build, one trigger started it and 23 are queued
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    const outcomes = summaries.flatMap((s) => s.records);
    expect(outcomes.filter((o) => o.outcome === 'accepted' && o.buildId !== undefined)).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'accepted' && o.detail === 'queued')).toHaveLength(23);
    // AND every trigger has exactly one record: one started with its build, 23 queued
    const records = await Promise.all(messageIds.map((id) => world.store.get(id)));
    expect(records.map((r) => r?.state).sort()).toEqual([...Array(23).fill('queued'), 'started']);
    const started = records.find((r) => r?.state === 'started');
    expect(started?.buildId).toMatch(/^w-queue:/);
    expect(started?.logUrl).toContain(encodeURIComponent(started?.buildId ?? ''));
    // AND the lane holds the started one with its build id, the others waiting, each once
    const lane = await world.store.readLane('queued-app');
    expect(lane.lane.holder?.id).toBe(started?.id);
    expect(lane.holderBuildId).toBe(started?.buildId);
    expect(new Set(lane.lane.waiting.map((e) => e.id)).size).toBe(23);
    expect(lane.lane.waiting.map((e) => e.id)).not.toContain(started?.id);
  });

  it('in supersede mode keeps one waiting trigger per branch and records the others superseded, final', async () => {
    // GIVEN a project in supersede mode (the default) and 20 triggers, half main, half dev
    const worker = await world.newWorker('w-super');
    const messageIds = ids('s', 20);

    // WHEN all are handled at the same time
    await Promise.all(
      messageIds.map((id, i) =>
        handleSnsEvent(
          snsEvent({ messageId: id, message: trigger('super-app', i % 2 === 0 ? 'main' : 'dev') }),
          world.deps(worker),
        ),
      ),
    );

    // THEN one build started, one trigger waits per branch, and the 17 others are superseded
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    const records = await Promise.all(messageIds.map((id) => world.store.get(id)));
    const byState = (state: string) => records.filter((r) => r?.state === state);
    expect(byState('started')).toHaveLength(1);
    expect(
      byState('queued')
        .map((r) => r?.branch)
        .sort(),
    ).toEqual(['dev', 'main']);
    expect(byState('superseded')).toHaveLength(17);
    const lane = await world.store.readLane('super-app');
    expect(lane.lane.waiting.map((e) => e.id).sort()).toEqual(
      byState('queued')
        .map((r) => r?.id)
        .sort(),
    );
    // AND each superseded record names the newer trigger of its own branch
    for (const r of byState('superseded')) {
      const newer = /^superseded by (s-\d\d),/.exec(r?.error ?? '')?.[1];
      expect(records.find((x) => x?.id === newer)?.branch).toBe(r?.branch);
    }
    // AND each superseded record is final, with the result the notifier publishes
    for (const r of byState('superseded')) {
      expect(r?.finishedAt).toEqual(expect.any(String));
      expect(deployResultOf(r as DeployRecord)).toMatchObject({
        id: r?.id,
        state: 'superseded',
        reason: r?.error,
      });
    }
  });

  it('starts one build per project when five projects are triggered at once', async () => {
    // GIVEN five projects with four triggers each
    const worker = await world.newWorker('w-multi');
    const work = Array.from({ length: 5 }, (_, p) =>
      ids(`m${p}`, 4).map((id) => ({ id, project: `multi-${p}` })),
    ).flat();

    // WHEN all twenty are handled at the same time
    await Promise.all(
      work.map(({ id, project }) =>
        handleSnsEvent(snsEvent({ messageId: id, message: trigger(project) }), world.deps(worker)),
      ),
    );

    // THEN five builds run, one per project, each its lane's holder
    expect(await buildCount(world.codebuild, worker)).toBe(5);
    for (let p = 0; p < 5; p++) {
      const lane = await world.store.readLane(`multi-${p}`);
      expect(lane.holderBuildId).toMatch(/^w-multi:/);
      expect(lane.lane.waiting).toHaveLength(3);
    }
  });

  it('gives the build IWOMP_TRIGGER_ID with the MessageId, beside the three overrides and the token', async () => {
    // GIVEN an idle project and moto recording
    const worker = await world.newWorker('w-env');
    await moto.startRecording();

    // WHEN one trigger is handled
    await handleSnsEvent(
      snsEvent({ messageId: 'env-1', message: trigger('plain', 'main') }),
      world.deps(worker),
    );

    // THEN StartBuild carried the trigger id as a PLAINTEXT override
    const [request] = await startBuildRequests(moto);
    expect(request?.environmentVariablesOverride).toEqual([
      { name: 'PROJECTNAME', value: 'plain', type: 'PLAINTEXT' },
      { name: 'GITBRANCH', value: 'main', type: 'PLAINTEXT' },
      { name: 'IWOMP_TRIGGER_ID', value: 'env-1', type: 'PLAINTEXT' },
    ]);
  });
});

describe('redelivered messages', () => {
  it('starts no second build and writes no second record for a message delivered twice', async () => {
    // GIVEN a trigger handled once
    const worker = await world.newWorker('w-redeliver');
    const event = snsEvent({ messageId: 'twice-1', message: trigger('twice-app') });
    await world.registerProject('twice-app');
    const first = await handleSnsEvent(event, world.deps(worker));
    const record = await world.store.get('twice-1');

    // WHEN SNS delivers it again
    const again = await handleSnsEvent(event, world.deps(worker));

    // THEN nothing new: one build, the record as it was, the second outcome a duplicate
    expect(first.records[0]).toMatchObject({ outcome: 'accepted', buildId: expect.any(String) });
    expect(again.records[0]).toMatchObject({
      outcome: 'accepted',
      detail: 'duplicate',
      buildId: record?.buildId,
    });
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    expect(await world.store.get('twice-1')).toEqual(record);
  });

  it('carries on from `received` when the last try stopped there, and starts the build once', async () => {
    // GIVEN a record left `received` by a launcher that died after writing it
    const worker = await world.newWorker('w-resume');
    await world.registerProject('stuck');
    await world.store.create({
      version: 1,
      id: 'stuck-1',
      project: 'stuck',
      branch: 'main',
      state: 'received',
      createdAt: new Date().toISOString(),
    });

    // WHEN the message is delivered again
    const summary = await handleSnsEvent(
      snsEvent({ messageId: 'stuck-1', message: trigger('stuck') }),
      world.deps(worker),
    );

    // THEN it is checked, admitted and started: one build, the record started
    expect(summary.records[0]).toMatchObject({ outcome: 'accepted', buildId: expect.any(String) });
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    expect((await world.store.get('stuck-1'))?.state).toBe('started');
  });
});

describe('rejected triggers get a record', () => {
  it('records an unregistered project rejected, final, with the reason', async () => {
    // GIVEN a trigger for a project the registry does not hold
    const worker = await world.newWorker('w-reject');

    // WHEN it is handled
    await handleSnsEvent(snsEvent({ messageId: 'rej-1', message: trigger('ghost') }), world.deps(worker));

    // THEN no build, the record rejected (final) with the reason, and the result the notifier publishes
    expect(await buildCount(world.codebuild, worker)).toBe(0);
    const record = await world.store.get('rej-1');
    expect(record).toMatchObject({
      project: 'ghost',
      state: 'rejected',
      error: expect.stringMatching(/not registered/),
    });
    expect(deployResultOf(record as DeployRecord)).toEqual({
      version: 1,
      id: 'rej-1',
      project: 'ghost',
      branch: 'main',
      state: 'rejected',
      reason: record?.error,
      createdAt: record?.createdAt,
      finishedAt: record?.finishedAt,
    });
  });

  it("records a message too malformed to name a project under project '-'", async () => {
    // GIVEN a message that is not JSON
    const worker = await world.newWorker('w-garbage');

    // WHEN it is handled, twice
    await handleSnsEvent(snsEvent({ messageId: 'bad-1', message: 'not json' }), world.deps(worker));
    const again = await handleSnsEvent(
      snsEvent({ messageId: 'bad-1', message: 'not json' }),
      world.deps(worker),
    );

    // THEN one record, rejected under '-', and the redelivery is rejected again without a new record
    expect(await world.store.get('bad-1')).toMatchObject({ project: '-', branch: '-', state: 'rejected' });
    expect(again.records[0]).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringMatching(/^already rejected/),
    });
  });
});
