import { createHash } from 'node:crypto';
import { IwompError } from '../core/errors.js';
import { type TopicScopes, topicRefusal } from '../core/topic-scope.js';
import { parseTriggerMessage, type TriggerMessage } from '../core/trigger-message.js';
import { dispositionOf } from './disposition.js';
import { type HandleTriggerDeps, handleTrigger } from './handle-trigger.js';

/**
 * Where outcome lines go. Powertools' `Logger` fits; each call writes one JSON line with the
 * attributes given. Attributes never hold a registry value: only names, ids and reasons.
 */
export interface OutcomeLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface SnsHandlerDeps extends HandleTriggerDeps {
  readonly logger: OutcomeLogger;
  /** Scoped trigger topics: a record from one of them may name only its projects. @default - none */
  readonly topicScopes?: TopicScopes;
}

/** How one SNS record ended: exactly one of the three, logged as one line. */
export type RecordOutcome =
  | {
      readonly outcome: 'accepted';
      readonly messageId: string;
      readonly message: TriggerMessage;
      readonly buildId: string;
    }
  | {
      readonly outcome: 'rejected';
      readonly messageId?: string;
      readonly message?: TriggerMessage;
      readonly reason: string;
    }
  | {
      readonly outcome: 'failed';
      readonly messageId: string;
      readonly message?: TriggerMessage;
      readonly reason: string;
      /** `transient`: waiting helps; `configuration`: the deployment needs fixing (then replay). */
      readonly kind: 'transient' | 'configuration';
    };

export interface SnsEventSummary {
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  /** One entry per record, in event order. */
  readonly records: readonly RecordOutcome[];
}

/**
 * Some records of the event could not be started for a reason that is not the message's fault.
 * Thrown after every record was handled, so Lambda retries the event (twice) and then hands it
 * to the on-failure destination: no trigger is lost.
 */
export class TriggerFailedError extends IwompError {
  readonly category = 'unavailable';

  constructor(readonly summary: SnsEventSummary) {
    const failed = summary.records.filter((r) => r.outcome === 'failed');
    super(
      `${failed.length} of ${summary.records.length} trigger(s) failed and will be retried: ` +
        failed.map((r) => `${r.messageId}: ${r.reason}`).join('; '),
    );
    this.name = 'TriggerFailedError';
  }
}

/**
 * The launcher Lambda's work: every record of an SNS event ends `accepted` (a build started),
 * `rejected` (the message can never be accepted: bad message, unknown project, branch not allowed;
 * logged, not retried) or `failed` (registry or CodeBuild unavailable, throttled, misconfigured).
 *
 * Records are handled one after another and a failure does not stop the others. If any failed,
 * this throws {@link TriggerFailedError} at the end, and Lambda retries the WHOLE event. That is
 * harmless for the other records: rejected ones are rejected again (one more log line), and
 * accepted ones call StartBuild again with the same idempotency token (derived from the SNS
 * MessageId), so CodeBuild returns the build it already started instead of a second one, as
 * long as the retry comes within the token's 5 minutes. Lambda's two retries normally come within
 * about 3 minutes; a later retry could start the same commit once more.
 * SNS delivers one record per invocation today, so in practice the batch is one trigger.
 */
export async function handleSnsEvent(event: unknown, deps: SnsHandlerDeps): Promise<SnsEventSummary> {
  const records = recordsOf(event);
  const outcomes: RecordOutcome[] = [];
  const end = (outcome: RecordOutcome) => {
    // Logged as soon as known: if the invocation times out later, earlier outcomes are on record.
    log(deps.logger, outcome);
    outcomes.push(outcome);
  };
  if (records === undefined) {
    end({ outcome: 'rejected', reason: 'event is not an SNS event: it has no Records array' });
  } else {
    for (const record of records) end(await handleRecord(record, deps));
  }
  const summary: SnsEventSummary = {
    accepted: outcomes.filter((o) => o.outcome === 'accepted').length,
    rejected: outcomes.filter((o) => o.outcome === 'rejected').length,
    failed: outcomes.filter((o) => o.outcome === 'failed').length,
    records: outcomes,
  };
  if (summary.failed > 0) throw new TriggerFailedError(summary);
  return summary;
}

function recordsOf(event: unknown): unknown[] | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const records = (event as { Records?: unknown }).Records;
  return Array.isArray(records) ? records : undefined;
}

async function handleRecord(record: unknown, deps: SnsHandlerDeps): Promise<RecordOutcome> {
  const sns = typeof record === 'object' && record !== null ? (record as { Sns?: unknown }).Sns : undefined;
  const source =
    typeof record === 'object' && record !== null
      ? (record as { EventSource?: unknown }).EventSource
      : undefined;
  if (source !== 'aws:sns' || typeof sns !== 'object' || sns === null) {
    return {
      outcome: 'rejected',
      reason: 'record is not an SNS notification (needs EventSource "aws:sns" and an Sns object)',
    };
  }
  const { MessageId: messageId, Message: text } = sns as { MessageId?: unknown; Message?: unknown };
  if (typeof messageId !== 'string' || !MESSAGE_ID.test(messageId)) {
    return { outcome: 'rejected', reason: 'record has no valid Sns.MessageId' };
  }
  if (typeof text !== 'string') {
    return { outcome: 'rejected', messageId, reason: 'record has no Sns.Message text' };
  }
  try {
    const result = await handleTrigger(text, deps, {
      idempotencyToken: idempotencyTokenFor(messageId),
      ...scopeOf(sns, deps.topicScopes),
    });
    if (result.outcome === 'accepted') {
      return { outcome: 'accepted', messageId, message: result.message, buildId: result.jobId };
    }
    return {
      outcome: 'rejected',
      messageId,
      ...(result.message ? { message: result.message } : {}),
      reason: result.reason,
    };
  } catch (error) {
    // Only a valid message gets this far, so the failure line can name project and branch.
    const message = tryParse(text);
    return {
      outcome: 'failed',
      messageId,
      ...(message ? { message } : {}),
      kind: failureKind(error),
      reason: oneLine(error),
    };
  }
}

/** SNS sets `TopicArn`, not the publisher: the launcher can trust it to name the topic's scope. */
function scopeOf(
  sns: object,
  scopes: TopicScopes | undefined,
): { refuseProject?: (project: string) => string | undefined } {
  if (scopes === undefined) return {};
  const { TopicArn: topicArn } = sns as { TopicArn?: unknown };
  const topic = typeof topicArn === 'string' ? topicArn : undefined;
  return { refuseProject: (project) => topicRefusal(scopes, topic, project) };
}

// SNS message ids are UUIDs; anything printable and short is accepted so that a hand-made test
// event still works, but nothing that could break a log line or grow without bound.
const MESSAGE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * StartBuild's idempotency token for one SNS message: a retried or duplicated delivery keeps its
 * MessageId, so it gets the same token, and CodeBuild returns the first build instead of starting
 * another (for 5 minutes). Hashed, so the token is 64 hex characters whatever the id holds.
 */
export function idempotencyTokenFor(messageId: string): string {
  return createHash('sha256').update(`iwomp-in-aws:sns:${messageId}`).digest('hex');
}

function failureKind(error: unknown): 'transient' | 'configuration' {
  const disposition = dispositionOf(error);
  // A rejection thrown this far is a bug in handleTrigger; still retried, never dropped.
  return disposition.outcome === 'failed' ? disposition.kind : 'transient';
}

function tryParse(text: string): TriggerMessage | undefined {
  try {
    return parseTriggerMessage(text);
  } catch {
    return undefined;
  }
}

function oneLine(error: unknown): string {
  const text =
    error instanceof IwompError ? error.message : `${(error as Error)?.name}: ${(error as Error)?.message}`;
  return String(text).split('\n')[0] ?? '';
}

function log(logger: OutcomeLogger, outcome: RecordOutcome): void {
  const m = outcome.message;
  const attributes: Record<string, unknown> = {
    outcome: outcome.outcome,
    messageId: outcome.messageId,
    project: m?.project,
    branch: m?.branch,
    commit: m?.commit,
    ...(outcome.outcome === 'accepted' ? { buildId: outcome.buildId } : { reason: outcome.reason }),
    ...(outcome.outcome === 'failed' ? { failure: outcome.kind } : {}),
  };
  for (const key of Object.keys(attributes)) if (attributes[key] === undefined) delete attributes[key];
  if (outcome.outcome === 'accepted') logger.info('trigger accepted: build started', attributes);
  else if (outcome.outcome === 'rejected') logger.warn('trigger rejected', attributes);
  else logger.error('trigger failed, will be retried', attributes);
}
