import { NO_PROJECT } from '../adapters/aws/deploy-table.js';
import type { DeployRecord } from '../core/deploy-record.js';
import { IwompError } from '../core/errors.js';
import { markRejected } from '../core/job-record.js';
import { type TopicScopes, topicRefusal } from '../core/topic-scope.js';
import { parseTriggerMessage, type TriggerMessage } from '../core/trigger-message.js';
import type { DeployStore } from '../ports/deploy-store.js';
import {
  DeployLifecycle,
  idempotencyTokenFor,
  type OutcomeLogger,
  type StartOutcome,
} from './deploy-lifecycle.js';
import { dispositionOf } from './disposition.js';
import { checkTrigger, type HandleTriggerDeps, handleTrigger } from './handle-trigger.js';

export { idempotencyTokenFor, type OutcomeLogger };

export interface SnsHandlerDeps extends HandleTriggerDeps {
  readonly logger: OutcomeLogger;
  /** Scoped trigger topics: a record from one of them may name only its projects. @default - none */
  readonly topicScopes?: TopicScopes;
  /**
   * The deploy records and lanes (AWS: the deploy table). With it, every trigger gets a record and
   * waits for its project's lane (docs/lifecycle.md); without it, a valid trigger starts its build
   * at once and nothing is recorded (the behaviour before records existed).
   * @default - no records
   */
  readonly store?: DeployStore;
  /** @default - the system clock */
  readonly now?: () => Date;
}

/** How one SNS record ended: exactly one of the three, logged as one line. */
export type RecordOutcome =
  | {
      readonly outcome: 'accepted';
      readonly messageId: string;
      readonly message: TriggerMessage;
      /** Absent while the trigger waits for its project's lane (or was deferred for the build limit). */
      readonly buildId?: string;
      /** With records: `queued` (waiting), `deferred` (build limit), `duplicate` (handled before). */
      readonly detail?: 'queued' | 'deferred' | 'duplicate';
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
  if (deps.store !== undefined) return handleTracked(messageId, text, sns, deps, deps.store);
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

/**
 * One trigger with a deploy record: recorded `received` first (a conditional create, so a
 * redelivery finds its record and goes on from where the last try stopped), then checked
 * (`rejected`, with the reason) or admitted to its project's lane (`queued`), and started when it
 * holds the lane. A record already `started` or final starts nothing: a duplicate.
 */
async function handleTracked(
  messageId: string,
  text: string,
  sns: object,
  deps: SnsHandlerDeps,
  store: DeployStore,
): Promise<RecordOutcome> {
  const parsed = tryParse(text);
  const now = deps.now?.() ?? new Date();
  const lifecycle = new DeployLifecycle({ ...deps, store });
  try {
    // A message too malformed to name a project is still recorded, so `trigger --wait` sees it
    // rejected; only a message that passes the syntax checks lends its names to the record.
    const fresh: DeployRecord = {
      version: 1,
      id: messageId,
      project: parsed?.project ?? NO_PROJECT,
      branch: parsed?.branch ?? NO_PROJECT,
      ...(parsed?.commit === undefined ? {} : { commit: parsed.commit }),
      state: 'received',
      createdAt: now.toISOString(),
    };
    const { record } = await store.create(fresh);
    if (record.state === 'queued') {
      const started = await lifecycle.startHolder(record.project, record.id);
      return trackedOutcome(messageId, parsed, started, 'duplicate');
    }
    if (record.state !== 'received') {
      return duplicateOutcome(messageId, parsed, record);
    }
    const check = await checkTrigger(text, deps, scopeOf(sns, deps.topicScopes));
    if (check.outcome === 'rejected') {
      const rejected = markRejected(record, check.reason, deps.now?.() ?? new Date());
      if (!(await store.move({ from: 'received', record: rejected }))) {
        const now = await store.get(messageId);
        return now === undefined
          ? { outcome: 'failed', messageId, kind: 'transient', reason: 'record vanished' }
          : duplicateOutcome(messageId, parsed, now);
      }
      return {
        outcome: 'rejected',
        messageId,
        ...(check.message ? { message: check.message } : {}),
        reason: check.reason,
      };
    }
    const admitted = await lifecycle.admit(record, check.config.concurrency);
    return trackedOutcome(messageId, check.message, admitted);
  } catch (error) {
    return {
      outcome: 'failed',
      messageId,
      ...(parsed ? { message: parsed } : {}),
      kind: failureKind(error),
      reason: oneLine(error),
    };
  }
}

function trackedOutcome(
  messageId: string,
  message: TriggerMessage | undefined,
  start: StartOutcome | { outcome: 'waiting' },
  otherwise: 'queued' | 'duplicate' = 'queued',
): RecordOutcome {
  // A record that got this far came from a valid message.
  const m = message as TriggerMessage;
  switch (start.outcome) {
    case 'started':
      return { outcome: 'accepted', messageId, message: m, buildId: start.buildId };
    case 'deferred':
      return { outcome: 'accepted', messageId, message: m, detail: 'deferred' };
    case 'already':
      return {
        outcome: 'accepted',
        messageId,
        message: m,
        detail: 'duplicate',
        ...(start.buildId === undefined ? {} : { buildId: start.buildId }),
      };
    default:
      return { outcome: 'accepted', messageId, message: m, detail: otherwise };
  }
}

function duplicateOutcome(
  messageId: string,
  message: TriggerMessage | undefined,
  record: DeployRecord,
): RecordOutcome {
  if (record.state === 'rejected') {
    return {
      outcome: 'rejected',
      messageId,
      ...(message ? { message } : {}),
      reason: `already rejected: ${record.error ?? ''}`,
    };
  }
  return {
    outcome: 'accepted',
    messageId,
    message: message as TriggerMessage,
    detail: 'duplicate',
    ...(record.buildId === undefined ? {} : { buildId: record.buildId }),
  };
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
    ...(outcome.outcome === 'accepted'
      ? { buildId: outcome.buildId, detail: outcome.detail }
      : { reason: outcome.reason }),
    ...(outcome.outcome === 'failed' ? { failure: outcome.kind } : {}),
  };
  for (const key of Object.keys(attributes)) if (attributes[key] === undefined) delete attributes[key];
  if (outcome.outcome === 'accepted') logger.info(ACCEPTED_LINE[outcome.detail ?? 'started'], attributes);
  else if (outcome.outcome === 'rejected') logger.warn('trigger rejected', attributes);
  else logger.error('trigger failed, will be retried', attributes);
}

const ACCEPTED_LINE = {
  started: 'trigger accepted: build started',
  queued: 'trigger accepted: queued behind the deploy in progress',
  deferred: 'trigger accepted: queued, the build limit is reached',
  duplicate: 'trigger already handled: nothing new started',
} as const;
