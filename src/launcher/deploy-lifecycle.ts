import { createHash } from 'node:crypto';
import { admit, defer, type LaneEntry, type LaneMode, release, resume } from '../core/deploy-lane.js';
import { type BuildStatus, type DeployRecord, finalOutcome } from '../core/deploy-record.js';
import {
  isFinished,
  type JobState,
  markEnded,
  markRunning,
  markStarted,
  markSuperseded,
} from '../core/job-record.js';
import type { DeployStore, LaneChange, RecordMove, StoredLaneState } from '../ports/deploy-store.js';
import { type JobLauncher, JobLimitError } from '../ports/job-launcher.js';
import { loadProjectConfig, type Registry } from '../ports/registry.js';
import { dispositionOf } from './disposition.js';

/**
 * Where outcome lines go. Powertools' `Logger` fits; each call writes one JSON line with the
 * attributes given. Attributes never hold a registry value: only names, ids and reasons.
 */
export interface OutcomeLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** What the launcher needs to move deploys through their lanes (AWS mode). */
export interface LifecycleDeps {
  readonly store: DeployStore;
  readonly registry: Registry;
  readonly launcher: JobLauncher;
  readonly logger: OutcomeLogger;
  /** @default - the system clock */
  readonly now?: () => Date;
  /**
   * Seconds a holder without a build id is left to the launcher starting it before the reconcile
   * starts it again (a launcher that died between taking the lane and StartBuild).
   * @default 600
   */
  readonly leaseSeconds?: number;
}

const DEFAULT_LEASE_SECONDS = 600;

/**
 * StartBuild's idempotency token for one trigger: a retried or duplicated delivery keeps its
 * MessageId, so it gets the same token, and CodeBuild returns the first build instead of starting
 * another (for 5 minutes). Hashed, so the token is 64 hex characters whatever the id holds.
 */
export function idempotencyTokenFor(messageId: string): string {
  return createHash('sha256').update(`iwomp-in-aws:sns:${messageId}`).digest('hex');
}

/** How an attempt to start a lane's holder ended. */
export type StartOutcome =
  | { readonly outcome: 'started'; readonly buildId: string }
  /** Its build was started before (a redelivery, or the reconcile): nothing new. */
  | { readonly outcome: 'already'; readonly buildId?: string }
  /** The account's build limit: back at the head of its lane, still `queued`. */
  | { readonly outcome: 'deferred' }
  /** It was not this trigger's turn after all (the lane moved on meanwhile). */
  | { readonly outcome: 'not-holder' };

/** The launcher's lane operations over one store; every one of them safe to repeat. */
export class DeployLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private leaseUntil(): number {
    return Math.floor(this.now().getTime() / 1000) + (this.deps.leaseSeconds ?? DEFAULT_LEASE_SECONDS);
  }

  /**
   * A checked, `received` trigger joins its project's lane (`queued`), superseding the waiting
   * trigger of its branch in `supersede` mode. When it takes an idle lane, its build is started.
   */
  async admit(record: DeployRecord, mode: LaneMode): Promise<StartOutcome | { outcome: 'waiting' }> {
    const entry: LaneEntry = { id: record.id, branch: record.branch };
    const at = this.now();
    const result = await this.deps.store.changeLane(record.project, async (stored) => {
      const current = await this.deps.store.get(record.id);
      const decision = admit(stored.lane, entry, mode);
      if (!decision.changed || current?.state !== 'received') {
        const redelivered = stored.lane.holder?.id === record.id ? record.id : undefined;
        return { result: { start: redelivered, superseded: [] as DeployRecord[] } };
      }
      const moves: RecordMove[] = [{ from: 'received', record: { ...current, state: 'queued' } }];
      const superseded: DeployRecord[] = [];
      for (const old of decision.superseded) {
        const waiting = await this.deps.store.get(old.id);
        if (waiting?.state !== 'queued') continue;
        const moved = markSuperseded(waiting, record.id, at);
        moves.push({ from: 'queued', record: moved });
        superseded.push(moved);
      }
      return {
        lane: this.laneAfter(stored, decision.lane, decision.start !== undefined),
        moves,
        result: { start: decision.start?.id, superseded },
      };
    });
    for (const old of result.superseded) {
      this.deps.logger.info('trigger superseded', {
        messageId: old.id,
        project: old.project,
        branch: old.branch,
        reason: old.error,
      });
    }
    if (result.start === undefined) return { outcome: 'waiting' };
    // An idle lane whose head waited (deferred for the build limit) gives the lane to the head,
    // not to the newcomer: its build is the one to start now.
    const started = await this.startHolder(record.project, result.start);
    return result.start === record.id ? started : { outcome: 'waiting' };
  }

  /**
   * Starts the build of the lane's holder `id` (or of `id` at the head of an idle lane, deferred
   * for the build limit: it is resumed first). Safe to repeat: the idempotency token returns the
   * build already started within 5 minutes, and a record already `started` starts nothing.
   *
   * When StartBuild fails, the trigger is DEFERRED (back at the head of its lane, still `queued`,
   * the lane idle) whatever the reason, never released nor left holding the lane: a trigger that
   * never started must not hold its project forever, and must not be dropped either. Then:
   * - the account's build limit (JobLimitError) is not a failure: nothing is thrown, the
   *   reconcile resumes the lane later;
   * - any other failure is thrown, so Lambda retries the message as before (and then keeps it in
   *   the on-failure destination); a retry finds the record `queued` at the head of an idle lane
   *   and resumes it, and so does the reconcile later, until the cause is fixed.
   */
  async startHolder(project: string, id: string): Promise<StartOutcome> {
    const stored = await this.deps.store.readLane(project);
    if (stored.lane.holder === undefined && stored.lane.waiting[0]?.id === id) {
      const resumed = await this.resume(project);
      if (resumed !== id) return { outcome: 'not-holder' };
    } else if (stored.lane.holder?.id !== id) {
      return { outcome: 'not-holder' };
    } else if (stored.holderBuildId !== undefined) {
      return { outcome: 'already', buildId: stored.holderBuildId };
    }
    const record = await this.deps.store.get(id);
    if (record === undefined || record.state !== 'queued') {
      if (record !== undefined && isFinished(record.state)) await this.releaseEnded(record);
      // Its build is known to the record but not to the lane (the lane write was lost): the lane
      // learns it, so the reconcile follows that build instead of starting the holder again.
      else if (record?.buildId !== undefined)
        await this.recordBuild(record, record.buildId, record.logUrl, 'started');
      return { outcome: 'already', ...(record?.buildId === undefined ? {} : { buildId: record.buildId }) };
    }
    let timeoutMinutes: number | undefined;
    try {
      timeoutMinutes = (await loadProjectConfig(this.deps.registry, project)).timeoutMinutes;
    } catch (error) {
      if (dispositionOf(error).outcome !== 'rejected') {
        await this.defer(project, id);
        throw error;
      }
      // Unregistered or broken since the trigger was accepted: it can never start.
      await this.close(record, { state: 'failed', reason: (error as Error).message });
      return { outcome: 'already' };
    }
    let job: { id: string; logUrl?: string };
    try {
      job = await this.deps.launcher.start({
        project: record.project,
        branch: record.branch,
        ...(record.commit === undefined ? {} : { commit: record.commit }),
        idempotencyToken: idempotencyTokenFor(id),
        triggerId: id,
        ...(timeoutMinutes === undefined ? {} : { timeoutMinutes }),
      });
    } catch (error) {
      await this.defer(project, id);
      if (error instanceof JobLimitError) {
        this.deps.logger.warn('trigger deferred: build limit reached, it stays queued', {
          messageId: id,
          project,
          branch: record.branch,
          reason: error.message,
        });
        return { outcome: 'deferred' };
      }
      throw error;
    }
    await this.recordBuild(record, job.id, job.logUrl, 'started');
    return { outcome: 'started', buildId: job.id };
  }

  /**
   * The build of `id` was seen (StartBuild's answer, or its first event): the record `started` (or
   * `running`) with its build id and log link, and the lane's holder gets its build id, together.
   */
  async recordBuild(
    record: DeployRecord,
    buildId: string,
    logUrl: string | undefined,
    seen: 'started' | 'running',
  ): Promise<DeployRecord | undefined> {
    const at = this.now();
    return this.deps.store.changeLane(record.project, async (stored) => {
      const current = await this.deps.store.get(record.id);
      const moves: RecordMove[] = [];
      let moved: DeployRecord | undefined;
      if (
        current !== undefined &&
        (current.state === 'queued' || (seen === 'running' && current.state === 'started'))
      ) {
        const withBuild = {
          ...current,
          buildId: current.buildId ?? buildId,
          ...((current.logUrl ?? logUrl) ? { logUrl: current.logUrl ?? logUrl } : {}),
        };
        const started = current.state === 'queued' ? markStarted(withBuild, at) : withBuild;
        moved = seen === 'running' ? markRunning(started, at) : started;
        moves.push({ from: current.state, record: moved });
      }
      const holds = stored.lane.holder?.id === record.id && stored.holderBuildId !== buildId;
      const lane = holds ? { lane: stored.lane, holderBuildId: buildId } : undefined;
      return { ...(lane === undefined ? {} : { lane }), moves, result: moved };
    });
  }

  /**
   * The build of `record` ended with CodeBuild's `status`: the record is closed with the worker's
   * own outcome where it reported one, the lane released and the next waiting trigger started. A
   * record already closed changes nothing. (Its result is published by the notifier, from the
   * table's stream: docs/lifecycle.md, "Results".)
   */
  async closeBuild(
    record: DeployRecord,
    status: Exclude<BuildStatus, 'IN_PROGRESS'>,
    buildId: string,
    logUrl?: string,
  ): Promise<DeployRecord | undefined> {
    return this.close(record, (current) => finalOutcome(current, status), { buildId, logUrl });
  }

  /** Starts the first waiting trigger of an idle lane; the id now holding it, if any. */
  async resume(project: string): Promise<string | undefined> {
    return this.deps.store.changeLane(project, async (stored) => {
      const decision = resume(stored.lane);
      if (!decision.changed || decision.start === undefined) return { result: undefined };
      return { lane: this.laneAfter(stored, decision.lane, true), result: decision.start.id };
    });
  }

  private async defer(project: string, id: string): Promise<void> {
    await this.deps.store.changeLane(project, async (stored): Promise<LaneChange<void>> => {
      const decision = defer(stored.lane, id);
      if (!decision.changed) return { result: undefined };
      return { lane: { lane: decision.lane }, result: undefined };
    });
  }

  /** A holder whose record ended without its lane being released (should not happen): release it. */
  private async releaseEnded(record: DeployRecord): Promise<void> {
    const next = await this.deps.store.changeLane(record.project, async (stored) => {
      const decision = release(stored.lane, record.id);
      if (!decision.changed) return { result: undefined };
      return {
        lane: this.laneAfter(stored, decision.lane, decision.start !== undefined),
        result: decision.start,
      };
    });
    if (next !== undefined) await this.startHolder(record.project, next.id);
  }

  private async close(
    record: DeployRecord,
    outcome:
      | { state: JobState; exitCode?: number; reason?: string }
      | ((current: DeployRecord) => { state: JobState; exitCode?: number; reason?: string }),
    build: { buildId?: string; logUrl?: string | undefined } = {},
  ): Promise<DeployRecord | undefined> {
    const at = this.now();
    const closed = await this.deps.store.changeLane(record.project, async (stored) => {
      const current = await this.deps.store.get(record.id);
      if (current === undefined || isFinished(current.state)) return { result: undefined };
      let base: DeployRecord = {
        ...current,
        ...((current.buildId ?? build.buildId) ? { buildId: current.buildId ?? build.buildId } : {}),
        ...((current.logUrl ?? build.logUrl) ? { logUrl: current.logUrl ?? build.logUrl } : {}),
      };
      // Both writes of its start were lost (or it never started): it still ends as it did.
      if (base.state === 'queued' && build.buildId !== undefined) base = markStarted(base, at);
      const ended = markEnded(base, typeof outcome === 'function' ? outcome(base) : outcome, at);
      const decision = release(stored.lane, record.id);
      return {
        ...(decision.changed
          ? { lane: this.laneAfter(stored, decision.lane, decision.start !== undefined) }
          : {}),
        moves: [{ from: current.state, record: ended }],
        result: { ended, next: decision.start },
      };
    });
    if (closed === undefined) return undefined;
    this.deps.logger.info(`deploy ended: ${closed.ended.state}`, {
      messageId: closed.ended.id,
      project: closed.ended.project,
      branch: closed.ended.branch,
      buildId: closed.ended.buildId,
      ...(closed.ended.error === undefined ? {} : { reason: closed.ended.error }),
    });
    if (closed.next !== undefined) await this.startHolder(record.project, closed.next.id);
    return closed.ended;
  }

  /**
   * The lane as written after a decision: a new holder gets a lease and no build id yet; a holder
   * that stays keeps both.
   */
  private laneAfter(
    stored: StoredLaneState,
    lane: StoredLaneState['lane'],
    newHolder: boolean,
  ): Omit<StoredLaneState, 'version'> {
    if (lane.holder === undefined) return { lane };
    if (newHolder) return { lane, leaseUntil: this.leaseUntil() };
    return {
      lane,
      ...(stored.holderBuildId === undefined ? {} : { holderBuildId: stored.holderBuildId }),
      ...(stored.leaseUntil === undefined ? {} : { leaseUntil: stored.leaseUntil }),
    };
  }
}
