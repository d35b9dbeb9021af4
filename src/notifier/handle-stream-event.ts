import { type Item, isRecordKey, itemToRecord } from '../adapters/aws/deploy-table.js';
import { type DeployResult, deployResultOf } from '../core/deploy-record.js';
import { InternalError } from '../core/errors.js';
import { isFinished } from '../core/job-record.js';
import type { ResultPublisher } from '../ports/result-publisher.js';

/**
 * One record of a DynamoDB Streams event as Lambda delivers it (the table's stream view is
 * NEW_AND_OLD_IMAGES): images in AttributeValue form. Only the fields the notifier reads.
 */
export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly dynamodb: {
    readonly Keys?: Item;
    readonly NewImage?: Item;
    readonly OldImage?: Item;
  };
}

/** Lambda's partial batch response for a stream: only these records (and later ones) are retried. */
export interface StreamBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** Where the notifier's lines go (Powertools' `Logger` fits). Never a registry value. */
export interface NotifierLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface NotifierDeps {
  /** The results topic. */
  readonly results: ResultPublisher;
  readonly logger: NotifierLogger;
}

/** What one stream record comes to: a result to publish, or nothing (with why, for the log). */
type Decision =
  | { readonly publish: DeployResult }
  | { readonly skip: 'not a record' | 'removed' | 'not final' | 'already final' }
  | { readonly malformed: string };

/**
 * Publishes the result of every deploy record that ENTERED a final state in this batch: its new
 * image is final and its old image was not (or there was none). A record already final that
 * changes again (the worker's late report, a launcher retry) publishes nothing; lane items and
 * removals (the TTL) are not results.
 *
 * A failed publish is reported in `batchItemFailures`, so Lambda retries from that record on
 * (at-least-once: a result published before the failure may be published again). A malformed
 * image is logged and skipped: no retry can repair it, and retrying would hold up the shard.
 */
export async function handleStreamEvent(event: unknown, deps: NotifierDeps): Promise<StreamBatchResponse> {
  const records = (event as { Records?: unknown } | undefined)?.Records;
  if (!Array.isArray(records)) {
    // Only the table's event source mapping invokes the notifier: anything else is a wiring mistake.
    throw new InternalError('the event is not a DynamoDB Streams event (no Records array)');
  }
  const outcomes = await Promise.all(
    (records as StreamRecord[]).map(async (record): Promise<string | undefined> => {
      const decision = decide(record);
      if ('malformed' in decision) {
        deps.logger.error('stream record skipped: malformed image', {
          eventID: record?.eventID,
          reason: decision.malformed,
        });
        return undefined;
      }
      if ('skip' in decision) return undefined;
      const result = decision.publish;
      try {
        await deps.results.publish(result);
        deps.logger.info('result published', {
          messageId: result.id,
          project: result.project,
          state: result.state,
        });
        return undefined;
      } catch (error) {
        deps.logger.error('result not published: retried', {
          eventID: record.eventID,
          messageId: result.id,
          project: result.project,
          state: result.state,
          reason: `${(error as Error)?.name}: ${String((error as Error)?.message).split('\n')[0]}`,
        });
        return record.eventID;
      }
    }),
  );
  return {
    batchItemFailures: outcomes
      .filter((id): id is string => id !== undefined)
      .map((itemIdentifier) => ({ itemIdentifier })),
  };
}

function decide(record: StreamRecord): Decision {
  const change = record?.dynamodb;
  if (typeof record?.eventID !== 'string' || change === undefined || change === null) {
    return { malformed: 'not a stream record (eventID, dynamodb)' };
  }
  if (!isRecordKey(change.Keys)) return { skip: 'not a record' };
  if (record.eventName === 'REMOVE') return { skip: 'removed' };
  if (change.NewImage === undefined)
    return { malformed: 'no NewImage (is the stream view NEW_AND_OLD_IMAGES?)' };
  try {
    // The core's rule: a record has a result only once it is final.
    const result = deployResultOf(itemToRecord(change.NewImage));
    if (result === undefined) return { skip: 'not final' };
    if (change.OldImage !== undefined && isFinished(itemToRecord(change.OldImage).state)) {
      return { skip: 'already final' };
    }
    return { publish: result };
  } catch (error) {
    return { malformed: (error as Error).message };
  }
}
