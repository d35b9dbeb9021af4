import { AccountLimitExceededException, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CodeBuildJobLauncher } from '../../src/adapters/aws/codebuild-job-launcher.js';
import { handleSnsEvent, TriggerFailedError } from '../../src/launcher/handle-sns-event.js';
import { reconcile } from '../../src/launcher/reconcile.js';
import { type Moto, startMoto } from '../support/moto.js';
import { type LifecycleWorld, lifecycleWorld, trigger } from './lifecycle-support.js';
import { buildCount, recordingLogger, snsEvent } from './support.js';

let moto: Moto;
let world: LifecycleWorld;
let tables = 0;

beforeAll(async () => {
  moto = await startMoto();
});

// The reconcile reads every lane of its table: each test gets a table of its own.
beforeEach(async () => {
  world = await lifecycleWorld(moto, `iwomp-deploys-reconcile-${++tables}`);
});

afterAll(async () => {
  await moto?.stop();
});

/** Reconcile deps against one worker project: moto's CodeBuild answers BatchGetBuilds. */
function reconcileDeps(worker: string, now?: () => Date) {
  const deps = world.deps(worker);
  return { ...deps, statuses: deps.launcher, ...(now === undefined ? {} : { now }) };
}

describe('the account build limit (StartBuild refused with AccountLimitExceededException)', () => {
  it('leaves the trigger queued at the head of an idle lane, fails nothing, and the reconcile starts it later', async () => {
    // GIVEN a CodeBuild client that refuses StartBuild for the account limit (moto cannot), and a
    // real deploy table
    const worker = await world.newWorker('w-limit');
    await world.registerProject('limited');
    const limited = new CodeBuildClient(moto.clientConfig);
    mockClient(limited)
      .on(StartBuildCommand)
      .rejects(new AccountLimitExceededException({ message: 'limit', $metadata: { httpStatusCode: 400 } }));
    const logger = recordingLogger();
    const deps = {
      ...world.deps(worker, logger),
      launcher: new CodeBuildJobLauncher({ projectName: worker, codebuild: limited }),
    };

    // WHEN two triggers arrive
    const first = await handleSnsEvent(snsEvent({ messageId: 'lim-1', message: trigger('limited') }), deps);
    const second = await handleSnsEvent(
      snsEvent({ messageId: 'lim-2', message: trigger('limited', 'dev') }),
      deps,
    );

    // THEN neither failed (nothing thrown, so Lambda does not retry them), both are queued, the
    // first at the head of an idle lane
    expect(first.records[0]).toMatchObject({ outcome: 'accepted', detail: 'deferred' });
    expect(second).toMatchObject({ failed: 0 });
    expect((await world.store.get('lim-1'))?.state).toBe('queued');
    expect((await world.store.get('lim-2'))?.state).toBe('queued');
    expect((await world.store.readLane('limited')).lane).toEqual({
      waiting: [
        { id: 'lim-1', branch: 'main' },
        { id: 'lim-2', branch: 'dev' },
      ],
    });
    expect(logger.lines.some((l) => l.message.startsWith('trigger deferred: build limit'))).toBe(true);

    // WHEN the limit has passed and the reconcile runs (CodeBuild as moto serves it)
    const summary = await reconcile(reconcileDeps(worker));

    // THEN the first trigger starts, the second keeps waiting behind it
    expect(summary).toMatchObject({ resumed: 1, errors: 0 });
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    expect((await world.store.get('lim-1'))?.state).toBe('started');
    expect((await world.store.readLane('limited')).lane).toEqual({
      holder: { id: 'lim-1', branch: 'main' },
      waiting: [{ id: 'lim-2', branch: 'dev' }],
    });
  });
});

describe('reconcile', () => {
  it('closes and releases a lane whose build ended without its event, and starts the next trigger', async () => {
    // GIVEN a started build with a trigger waiting behind it, and no state-change event
    // (moto's BatchGetBuilds reports every build it is asked about as SUCCEEDED)
    const worker = await world.newWorker('w-lost');
    await world.registerProject('lost-event', { concurrency: 'queue' });
    for (const id of ['lost-1', 'lost-2']) {
      await handleSnsEvent(snsEvent({ messageId: id, message: trigger('lost-event') }), world.deps(worker));
    }
    const before = await world.store.readLane('lost-event');

    // WHEN the reconcile runs
    const summary = await reconcile(reconcileDeps(worker));

    // THEN the first record is closed (final) as succeeded, and the second holds the lane
    expect(summary.closed).toBeGreaterThanOrEqual(1);
    expect(await world.store.get('lost-1')).toMatchObject({
      state: 'succeeded',
      buildId: before.holderBuildId,
    });
    expect((await world.store.get('lost-1'))?.finishedAt).toEqual(expect.any(String));
    const lane = await world.store.readLane('lost-event');
    expect(lane.lane.holder?.id).toBe('lost-2');
    expect(lane.holderBuildId).toBe((await world.store.get('lost-2'))?.buildId);
    expect(await buildCount(world.codebuild, worker)).toBe(2);
  });

  it('starts again a holder left without a build id once its lease has passed, not before', async () => {
    // GIVEN a lane whose holder never got its build (its launcher died before StartBuild answered)
    const worker = await world.newWorker('w-lease');
    await world.registerProject('leased');
    const createdAt = new Date();
    await world.store.create({
      version: 1,
      id: 'lease-1',
      project: 'leased',
      branch: 'main',
      state: 'received',
      createdAt: createdAt.toISOString(),
    });
    await world.store.changeLane('leased', async () => ({
      lane: {
        lane: { holder: { id: 'lease-1', branch: 'main' }, waiting: [] },
        leaseUntil: Math.floor(createdAt.getTime() / 1000) + 600,
      },
      moves: [
        {
          from: 'received',
          record: {
            version: 1,
            id: 'lease-1',
            project: 'leased',
            branch: 'main',
            state: 'queued',
            createdAt: createdAt.toISOString(),
          },
        },
      ],
      result: undefined,
    }));

    // WHEN the reconcile runs within the lease, then after it
    const within = await reconcile(reconcileDeps(worker, () => new Date(createdAt.getTime() + 60_000)));
    const countWithin = await buildCount(world.codebuild, worker);
    const after = await reconcile(reconcileDeps(worker, () => new Date(createdAt.getTime() + 601_000)));

    // THEN nothing starts within the lease; after it the holder's build starts
    expect(within.restarted).toBe(0);
    expect(countWithin).toBe(0);
    expect(after.restarted).toBe(1);
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    expect((await world.store.get('lease-1'))?.state).toBe('started');
  });
});

describe('other StartBuild failures', () => {
  it('fail the trigger (thrown, so Lambda retries) without holding the lane; the retry starts it once', async () => {
    // GIVEN a worker project that does not exist yet (a configuration failure)
    await world.registerProject('unready');
    const deps = world.deps('w-not-yet');
    const event = snsEvent({ messageId: 'unready-1', message: trigger('unready') });

    // WHEN the trigger is handled
    const error = await handleSnsEvent(event, deps).catch((e: unknown) => e);

    // THEN it fails as before (TriggerFailedError, configuration), its record queued at the head
    // of an idle lane rather than holding it
    expect(error).toBeInstanceOf(TriggerFailedError);
    expect((error as TriggerFailedError).summary.records[0]).toMatchObject({
      outcome: 'failed',
      kind: 'configuration',
    });
    expect((await world.store.get('unready-1'))?.state).toBe('queued');
    expect((await world.store.readLane('unready')).lane).toEqual({
      waiting: [{ id: 'unready-1', branch: 'main' }],
    });

    // WHEN the worker project is fixed and Lambda retries the message
    await world.newWorker('w-not-yet');
    const retried = await handleSnsEvent(event, deps);

    // THEN its build starts, once, and it holds the lane
    expect(retried.records[0]).toMatchObject({ outcome: 'accepted', buildId: expect.any(String) });
    expect(await buildCount(world.codebuild, 'w-not-yet')).toBe(1);
    expect((await world.store.readLane('unready')).lane.holder?.id).toBe('unready-1');
  });
});
