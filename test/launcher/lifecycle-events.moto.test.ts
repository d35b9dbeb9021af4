import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordKey } from '../../src/adapters/aws/deploy-table.js';
import { type DeployRecord, deployResultOf } from '../../src/core/deploy-record.js';
import { handleBuildEvent } from '../../src/launcher/handle-build-event.js';
import { handleSnsEvent } from '../../src/launcher/handle-sns-event.js';
import { type Moto, startMoto } from '../support/moto.js';
import { buildStateChange, type LifecycleWorld, lifecycleWorld, trigger } from './lifecycle-support.js';
import { buildCount, recordingLogger, snsEvent } from './support.js';

let moto: Moto;
let world: LifecycleWorld;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

beforeAll(async () => {
  moto = await startMoto();
  world = await lifecycleWorld(moto, 'iwomp-deploys-events');
});

afterAll(async () => {
  await moto?.stop();
});

/** A project of its own with a worker of its own, and triggers handled one after another. */
async function scenario(name: string, triggers: string[], mode: 'queue' | 'supersede' = 'queue') {
  const worker = await world.newWorker(`w-${name}`);
  await world.registerProject(name, { concurrency: mode });
  const logger = recordingLogger();
  const deps = { ...world.deps(worker, logger), workerProject: worker };
  for (const id of triggers)
    await handleSnsEvent(snsEvent({ messageId: id, message: trigger(name, 'main', COMMIT) }), deps);
  const first = (await world.store.get(triggers[0] as string)) as DeployRecord;
  return { worker, deps, logger, first, buildId: first.buildId as string };
}

const envOf = (record: DeployRecord) => ({
  PROJECTNAME: record.project,
  GITBRANCH: record.branch,
  IWOMP_TRIGGER_ID: record.id,
});

describe('CodeBuild build state changes (the documented event shape)', () => {
  it('marks the record running on IN_PROGRESS and leaves the lane as it is', async () => {
    // GIVEN a started build
    const { deps, first, buildId } = await scenario('ev-run', ['run-1']);
    const laneBefore = await world.store.readLane('ev-run');

    // WHEN CodeBuild reports it in progress
    const outcome = await handleBuildEvent(buildStateChange(buildId, 'IN_PROGRESS', envOf(first)), deps);

    // THEN the record is running in its first phase, the lane unchanged
    expect(outcome).toEqual({ outcome: 'running', id: 'run-1', buildId });
    expect(await world.store.get('run-1')).toMatchObject({ state: 'running', phase: 'clone', buildId });
    expect(await world.store.readLane('ev-run')).toEqual(laneBefore);
  });

  it('closes a succeeded build with exactly its result, and starts the next waiting trigger', async () => {
    // GIVEN a started build and a trigger waiting behind it
    const { deps, first, buildId, worker } = await scenario('ev-ok', ['ok-1', 'ok-2']);

    // WHEN CodeBuild reports the build succeeded
    await handleBuildEvent(buildStateChange(buildId, 'IN_PROGRESS', envOf(first)), deps);
    const outcome = await handleBuildEvent(buildStateChange(buildId, 'SUCCEEDED', envOf(first)), deps);

    // THEN the record reached its final state, succeeded, with the result the notifier publishes
    expect(outcome).toEqual({ outcome: 'closed', id: 'ok-1', buildId, state: 'succeeded' });
    const closed = (await world.store.get('ok-1')) as DeployRecord;
    expect(closed).toMatchObject({ state: 'succeeded', exitCode: 0, finishedAt: expect.any(String) });
    expect(closed.phase).toBeUndefined();
    expect(deployResultOf(closed)).toEqual({
      version: 1,
      id: 'ok-1',
      project: 'ev-ok',
      branch: 'main',
      commit: COMMIT,
      state: 'succeeded',
      exitCode: 0,
      buildId,
      logUrl: `https://us-east-1.console.aws.amazon.com/codesuite/codebuild/projects/${worker}/build/${encodeURIComponent(buildId)}/?region=us-east-1`,
      createdAt: closed.createdAt,
      finishedAt: closed.finishedAt,
    });
    // AND the waiting trigger now holds the lane with a build of its own: two builds in all
    const next = (await world.store.get('ok-2')) as DeployRecord;
    expect(next.state).toBe('started');
    const lane = await world.store.readLane('ev-ok');
    expect(lane.lane).toEqual({ holder: { id: 'ok-2', branch: 'main' }, waiting: [] });
    expect(lane.holderBuildId).toBe(next.buildId);
    expect(await buildCount(world.codebuild, worker)).toBe(2);
  });

  it("lets the worker's reported failure win over CodeBuild's SUCCEEDED", async () => {
    // GIVEN a running build whose worker reported exit code 3 and its reason
    const { deps, first, buildId } = await scenario('ev-worker', ['wk-1']);
    await handleBuildEvent(buildStateChange(buildId, 'IN_PROGRESS', envOf(first)), deps);
    await world.dynamodb.send(
      new UpdateItemCommand({
        TableName: 'iwomp-deploys-events',
        Key: recordKey('wk-1'),
        UpdateExpression: 'SET reportedExitCode = :c, reportedReason = :r',
        ExpressionAttributeValues: { ':c': { N: '3' }, ':r': { S: 'the deploy command exited with 1' } },
      }),
    );

    // WHEN the build ends SUCCEEDED (the worker exits 0 to CodeBuild after reporting)
    await handleBuildEvent(buildStateChange(buildId, 'SUCCEEDED', envOf(first)), deps);

    // THEN the record failed with the worker's code and reason, and so does its result
    const record = (await world.store.get('wk-1')) as DeployRecord;
    expect(record).toMatchObject({
      state: 'failed',
      exitCode: 3,
      error: 'the deploy command exited with 1',
    });
    expect(deployResultOf(record)).toMatchObject({
      id: 'wk-1',
      state: 'failed',
      exitCode: 3,
      reason: 'the deploy command exited with 1',
    });
  });

  it('records a STOPPED build cancelled and releases the lane', async () => {
    // GIVEN a started build alone in its lane
    const { deps, first, buildId } = await scenario('ev-stop', ['stop-1']);

    // WHEN CodeBuild reports it stopped
    await handleBuildEvent(buildStateChange(buildId, 'STOPPED', envOf(first)), deps);

    // THEN the record is cancelled and the lane idle
    expect(await world.store.get('stop-1')).toMatchObject({
      state: 'cancelled',
      error: 'the build was stopped',
    });
    const lane = await world.store.readLane('ev-stop');
    expect(lane.lane).toEqual({ waiting: [] });
    expect(lane.holderBuildId).toBeUndefined();
  });

  it('finds the record through the lane when the event carries no IWOMP_TRIGGER_ID', async () => {
    // GIVEN a started build, and an event without the trigger id variable
    const { deps, first, buildId } = await scenario('ev-lane', ['lane-1']);

    // WHEN the build ends
    await handleBuildEvent(buildStateChange(buildId, 'FAILED', { PROJECTNAME: first.project }), deps);

    // THEN the lane's holder record is closed
    expect((await world.store.get('lane-1'))?.state).toBe('failed');
  });

  it('starts no second build when the message is delivered again after its build ended', async () => {
    // GIVEN a trigger whose build ended
    const { deps, first, buildId, worker } = await scenario('ev-late', ['late-1']);
    await handleBuildEvent(buildStateChange(buildId, 'SUCCEEDED', envOf(first)), deps);
    const closed = await world.store.get('late-1');

    // WHEN SNS delivers the message again, and the final event comes twice
    const again = await handleSnsEvent(snsEvent({ messageId: 'late-1', message: trigger('ev-late') }), deps);
    const twice = await handleBuildEvent(buildStateChange(buildId, 'SUCCEEDED', envOf(first)), deps);

    // THEN no build, no change, the duplicates reported as such
    expect(again.records[0]).toMatchObject({ outcome: 'accepted', detail: 'duplicate' });
    expect(twice).toMatchObject({ outcome: 'ignored', reason: 'record late-1 is already succeeded' });
    expect(await buildCount(world.codebuild, worker)).toBe(1);
    expect(await world.store.get('late-1')).toEqual(closed);
  });

  it('ignores, with a log line, events of other projects, of unknown builds and of another shape', async () => {
    // GIVEN a started build
    const { deps, logger, first, buildId } = await scenario('ev-other', ['other-1']);
    const before = await world.store.get('other-1');

    // WHEN events arrive for another CodeBuild project, a build no record names, and nonsense
    const outcomes = [
      await handleBuildEvent(
        buildStateChange(`someone-else:${buildId.split(':')[1]}`, 'SUCCEEDED', envOf(first)),
        deps,
      ),
      await handleBuildEvent(
        buildStateChange(`${deps.workerProject}:0000`, 'SUCCEEDED', { PROJECTNAME: 'ev-other' }),
        deps,
      ),
      await handleBuildEvent(
        buildStateChange(`${deps.workerProject}:0001`, 'SUCCEEDED', { IWOMP_TRIGGER_ID: 'nobody' }),
        deps,
      ),
      await handleBuildEvent(
        { 'detail-type': 'CodeBuild Build State Change', source: 'aws.codebuild' },
        deps,
      ),
    ];

    // THEN each is ignored and logged, and the record is untouched
    expect(outcomes.map((o) => o.outcome)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
    expect(logger.lines.filter((l) => l.message === 'build event ignored')).toHaveLength(4);
    expect(await world.store.get('other-1')).toEqual(before);
  });
});
