import { type CommitStatusSetting, commitStatusRequest, type DeployStatus } from '../core/commit-status.js';
import type { Redactor } from '../core/redact.js';

export interface CommitStatusReporterProps {
  readonly setting: CommitStatusSetting;
  readonly project: string;
  /** Redacts the description, and every line this writes to the log. */
  readonly redactor: Redactor;
  /** The build's log (`CODEBUILD_BUILD_URL`); none locally. */
  readonly targetUrl?: string;
  readonly log: (line: string) => void;
  /** @default 10 seconds */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Sets the deployed commit's status on the git host. Each status is sent after the one before it
 * (the host must see `pending` before the final state), without holding up the deploy; a status
 * that cannot be set is one warning line in the log, never a failed deploy.
 */
export class CommitStatusReporter {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly props: CommitStatusReporterProps) {}

  set(commit: string, state: DeployStatus, description: string): void {
    this.chain = this.chain.then(() => this.send(commit, state, description));
  }

  /** Resolves when every status set so far was sent or given up on. Never rejects. */
  settled(): Promise<void> {
    return this.chain;
  }

  private async send(commit: string, state: DeployStatus, description: string): Promise<void> {
    const { setting, redactor } = this.props;
    const where = `${setting.provider} ${setting.repository}@${commit.slice(0, 12)}`;
    try {
      const request = commitStatusRequest(
        setting,
        {
          project: this.props.project,
          commit,
          state,
          description,
          ...(this.props.targetUrl === undefined ? {} : { targetUrl: this.props.targetUrl }),
        },
        redactor,
      );
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        // A redirect would carry the token to wherever the answer points: not followed.
        redirect: 'error',
        signal: AbortSignal.timeout(this.props.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      // The answer's body is not needed (and could echo anything): drop it unread.
      await response.body?.cancel();
      if (response.ok) this.props.log(`commit status ${state} set on ${where}`);
      else this.warn(state, where, `the API answered HTTP ${response.status}`);
    } catch (error) {
      this.warn(state, where, describeFetchError(error));
    }
  }

  private warn(state: DeployStatus, where: string, why: string): void {
    this.props.log(
      this.props.redactor.redact(`warning: cannot set commit status ${state} on ${where}: ${why}`),
    );
  }
}

/** fetch's errors say little at the top (`fetch failed`); the cause says why (ECONNREFUSED, a redirect). */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const detail = cause === undefined ? '' : `: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`;
  return `${error.message}${detail}`.split(/[\r\n]/, 1)[0] ?? '';
}
