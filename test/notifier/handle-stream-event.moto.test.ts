/**
 * The notifier against moto's SNS, read back through an SQS subscription. Its input is a DynamoDB
 * Streams event in the shape Lambda documents, built from real items: `recordToItem` of records
 * moved by the core's own transitions, `laneToItem` of a lane. aws-sdk-client-mock only stands in
 * for a failing Publish, which moto cannot produce; every other publish reaches moto.
 */
import {
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneKey, laneToItem, recordKey, recordToItem } from '../../src/adapters/aws/deploy-table.js';
import { SnsResultPublisher } from '../../src/adapters/aws/sns-result-publisher.js';
import {
  type DeployRecord,
  type DeployResult,
  deployResultOf,
  finalOutcome,
} from '../../src/core/deploy-record.js';
import {
  markCancelled,
  markEnded,
  markQueued,
  markRejected,
  markRunning,
  markStarted,
  markSuperseded,
} from '../../src/core/job-record.js';
import { handleStreamEvent } from '../../src/notifier/handle-stream-event.js';
import { recordingLogger } from '../launcher/support.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createTopicWithQueue, type Delivered, type TopicQueue } from '../support/sns-queue.js';

let moto: Moto;

beforeAll(async () => {
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.stop();
});

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 10, minute));
const EXPIRES = Math.floor(at(0).getTime() / 1000) + 90 * 86_400;

/** A trigger's record through the core's transitions, as the launcher moves it. */
function lifeOf(id: string, project = 'demo') {
  const received: DeployRecord = {
    version: 1,
    id,
    project,
    branch: 'main',
    commit: COMMIT,
    state: 'received',
    createdAt: at(0).toISOString(),
  };
  const queued = markQueued(received);
  const buildId = `iwomp-worker:${id}-uuid`;
  const started = { ...markStarted(queued, at(1)), buildId, logUrl: `https://console.example/${buildId}` };
  const running = markRunning(started, at(2));
  const succeeded = markEnded(running, finalOutcome(running, 'SUCCEEDED'), at(3));
  const reported = { ...running, reportedExitCode: 3, reportedReason: 'the deploy command exited with 1' };
  const failed = markEnded(reported, finalOutcome(reported, 'SUCCEEDED'), at(3));
  return {
    received,
    queued,
    started,
    running,
    succeeded,
    failed,
    rejected: markRejected(received, `project ${project} is not registered`, at(1)),
    superseded: markSuperseded(queued, `${id}-newer`, at(1)),
    cancelled: markCancelled(started, 'the build was stopped', at(2)),
  };
}

let sequence = 0;

/** One stream record as Lambda delivers it from a NEW_AND_OLD_IMAGES stream. */
function change(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { keys: Record<string, unknown>; old?: Record<string, unknown>; new?: Record<string, unknown> },
) {
  sequence += 1;
  return {
    eventID: `event-${sequence}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1_795_000_000 + sequence,
      Keys: images.keys,
      ...(images.new === undefined ? {} : { NewImage: images.new }),
      ...(images.old === undefined ? {} : { OldImage: images.old }),
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN:
      'arn:aws:dynamodb:us-east-1:123456789012:table/iwomp-deploys/stream/2026-11-22T10:00:00.000',
  };
}

/** A record's write: INSERT when there was none before, else MODIFY. */
const write = (before: DeployRecord | undefined, after: DeployRecord) =>
  change(before === undefined ? 'INSERT' : 'MODIFY', {
    keys: recordKey(after.id),
    new: recordToItem(after, EXPIRES),
    ...(before === undefined ? {} : { old: recordToItem(before, EXPIRES) }),
  });

async function world(name: string) {
  const topic = await createTopicWithQueue(moto, name);
  const logger = recordingLogger();
  const results = new SnsResultPublisher({ topicArn: topic.topicArn, sns: new SNSClient(moto.clientConfig) });
  return { topic, logger, deps: { results, logger } };
}

/** Every message delivered so far (the first waited for up to `wait` seconds). */
async function drain(topic: TopicQueue, wait = 1): Promise<Delivered[]> {
  const all: Delivered[] = [];
  for (let seconds = wait; ; seconds = 0) {
    const next = await topic.next(seconds);
    if (next === undefined) return all;
    all.push(next);
  }
}

const bodies = (delivered: Delivered[]) => delivered.map((d) => JSON.parse(d.message) as DeployResult);

describe('notifier: which stream records publish a result', () => {
  it('publishes exactly one message, with its attributes, per record entering each final state', async () => {
    // GIVEN the writes that end five deploys (one per final state), among their non-final writes
    const { topic, deps } = await world('notify-final');
    const ok = lifeOf('ok-1');
    const bad = lifeOf('bad-1');
    const ghost = lifeOf('ghost-1', 'ghost');
    const old = lifeOf('old-1');
    const stop = lifeOf('stop-1');
    const event = {
      Records: [
        write(undefined, ok.received),
        write(ok.received, ok.queued),
        write(ok.queued, ok.started),
        write(ok.started, ok.running),
        write(ok.running, ok.succeeded),
        write(bad.running, bad.failed),
        write(ghost.received, ghost.rejected),
        write(old.queued, old.superseded),
        write(stop.started, stop.cancelled),
      ],
    };

    // WHEN the notifier handles the batch
    const response = await handleStreamEvent(event, deps);

    // THEN nothing is retried, and each ended record's result was published once, as the core makes it
    expect(response).toEqual({ batchItemFailures: [] });
    const delivered = await drain(topic);
    const byId = (id: string) => delivered.filter((d) => JSON.parse(d.message).id === id);
    const ended = [ok.succeeded, bad.failed, ghost.rejected, old.superseded, stop.cancelled];
    expect(delivered).toHaveLength(ended.length);
    for (const record of ended) {
      const [message, ...more] = byId(record.id);
      expect(more).toEqual([]);
      expect(JSON.parse(message?.message ?? '')).toEqual(deployResultOf(record));
      // AND it carries the attributes a subscription filters on
      expect(message?.attributes).toEqual({ project: record.project, state: record.state });
    }
    expect(bodies(byId('bad-1'))[0]).toMatchObject({
      exitCode: 3,
      reason: 'the deploy command exited with 1',
    });
  });

  it('publishes a record inserted already final (no old image)', async () => {
    // GIVEN a rejected record written in one go
    const { topic, deps } = await world('notify-insert');
    const ghost = lifeOf('ghost-2', 'ghost');

    // WHEN its INSERT is handled
    await handleStreamEvent({ Records: [write(undefined, ghost.rejected)] }, deps);

    // THEN its result is published
    expect(bodies(await drain(topic))).toEqual([deployResultOf(ghost.rejected)]);
  });

  it('publishes nothing for writes that leave a record unfinished', async () => {
    // GIVEN a record created, queued, started, running and in its next phase
    const { topic, deps } = await world('notify-unfinished');
    const life = lifeOf('mid-1');
    const records = [
      write(undefined, life.received),
      write(life.received, life.queued),
      write(life.queued, life.started),
      write(life.started, life.running),
      write(life.running, { ...life.running, phase: 'command' }),
    ];

    // WHEN the notifier handles them
    const response = await handleStreamEvent({ Records: records }, deps);

    // THEN nothing is published and nothing retried
    expect(response.batchItemFailures).toEqual([]);
    expect(await drain(topic)).toEqual([]);
  });

  it('publishes nothing again for a record already final that changes (the worker reports late)', async () => {
    // GIVEN a succeeded record whose worker's report arrives after the launcher closed it
    const { topic, deps } = await world('notify-late');
    const life = lifeOf('late-1');
    const late = { ...life.succeeded, reportedExitCode: 0, deployedCommit: COMMIT };

    // WHEN that MODIFY (final to final) is handled
    const response = await handleStreamEvent({ Records: [write(life.succeeded, late)] }, deps);

    // THEN nothing is published
    expect(response.batchItemFailures).toEqual([]);
    expect(await drain(topic)).toEqual([]);
  });

  it('publishes nothing for lane items or for records removed by their TTL', async () => {
    // GIVEN a lane taken and released, and a final record expiring
    const { topic, deps, logger } = await world('notify-lane');
    const life = lifeOf('gone-1');
    const held = { lane: { holder: { id: 'gone-1', branch: 'main' }, waiting: [] }, version: 1 };
    const idle = { lane: { waiting: [] }, version: 2 };
    const records = [
      change('INSERT', { keys: laneKey('demo'), new: laneToItem('demo', held) }),
      change('MODIFY', {
        keys: laneKey('demo'),
        old: laneToItem('demo', held),
        new: laneToItem('demo', idle),
      }),
      change('REMOVE', { keys: recordKey('gone-1'), old: recordToItem(life.succeeded, EXPIRES) }),
    ];

    // WHEN the notifier handles them
    const response = await handleStreamEvent({ Records: records }, deps);

    // THEN nothing is published, and they are passed over quietly (they are not malformed records)
    expect(response.batchItemFailures).toEqual([]);
    expect(await drain(topic)).toEqual([]);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('notifier: failures', () => {
  it("reports a failed publish in batchItemFailures, and still publishes the batch's other results", async () => {
    // GIVEN an SNS client whose Publish fails for one record only (moto answers the others)
    const { topic, logger } = await world('notify-fail');
    const real = new SNSClient(moto.clientConfig);
    const flaky = new SNSClient(moto.clientConfig);
    const stub = mockClient(flaky);
    stub.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
      if ((JSON.parse(input.Message ?? '{}') as DeployResult).id === 'lost-1') {
        throw new SNSServiceException({
          name: 'InternalErrorException',
          message: 'internal error',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return real.send(new PublishCommand(input));
    });
    const deps = { results: new SnsResultPublisher({ topicArn: topic.topicArn, sns: flaky }), logger };
    const [a, lost, b] = [lifeOf('pub-1'), lifeOf('lost-1'), lifeOf('pub-2')];
    const records = [
      write(a.running, a.succeeded),
      write(lost.running, lost.failed),
      write(b.queued, b.superseded),
    ];

    try {
      // WHEN the notifier handles the batch
      const response = await handleStreamEvent({ Records: records }, deps);

      // THEN only the failed record is retried, by its eventID
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]?.eventID }] });
      // AND the two others were published
      expect(
        bodies(await drain(topic))
          .map((r) => r.id)
          .sort(),
      ).toEqual(['pub-1', 'pub-2']);
      // AND the failure is one error line naming the record and the cause
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([
        {
          level: 'error',
          message: 'result not published: retried',
          attributes: expect.objectContaining({
            eventID: records[1]?.eventID,
            messageId: 'lost-1',
            reason: 'InternalErrorException: internal error',
          }),
        },
      ]);
    } finally {
      stub.restore();
    }
  });

  it('logs and skips a malformed image, without a retry, and publishes the rest', async () => {
    // GIVEN a record whose new image has no project, next to a good one
    const { topic, deps, logger } = await world('notify-malformed');
    const life = lifeOf('good-1');
    const broken = write(life.running, life.succeeded);
    const { project: _dropped, ...noProject } = broken.dynamodb.NewImage as Record<string, unknown>;
    const malformed = { ...broken, dynamodb: { ...broken.dynamodb, NewImage: noProject } };
    const good = write(lifeOf('good-2').running, lifeOf('good-2').succeeded);

    // WHEN the notifier handles both
    const response = await handleStreamEvent({ Records: [malformed, good] }, deps);

    // THEN no retry is asked, the good one is published, and the bad one is one error line
    expect(response).toEqual({ batchItemFailures: [] });
    expect(bodies(await drain(topic)).map((r) => r.id)).toEqual(['good-2']);
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: 'stream record skipped: malformed image',
      attributes: {
        eventID: malformed.eventID,
        reason: 'deploy record deploy#good-1: project is not a string',
      },
    });
  });

  it('refuses an event that is not a stream event, in one line', async () => {
    // GIVEN the notifier wired to something else by mistake
    const { deps } = await world('notify-wrong');

    // WHEN / THEN an SNS-shaped event is refused
    await expect(handleStreamEvent({ records: [] }, deps)).rejects.toThrow(
      /^the event is not a DynamoDB Streams event \(no Records array\)$/,
    );
  });
});
