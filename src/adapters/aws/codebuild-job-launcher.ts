import {
  BatchGetBuildsCommand,
  type Build,
  CodeBuildClient,
  type EnvironmentVariable,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { BUILD_STATUSES, type BuildStatus } from '../../core/deploy-record.js';
import { InvalidInputError, JobStartError } from '../../core/errors.js';
import { MAX_TIMEOUT_MINUTES } from '../../core/project-config.js';
import {
  type JobLauncher,
  JobLimitError,
  type JobRequest,
  type JobStatus,
  type JobStatusReader,
  type StartedJob,
} from '../../ports/job-launcher.js';

export interface CodeBuildJobLauncherProps {
  /** The worker's CodeBuild project (`WORKER_PROJECT_NAME`), checked by `parseWorkerProjectName`. */
  readonly projectName: string;
  /**
   * CodeBuild client to use.
   * @default - a client from the SDK's default chain (region, credentials, AWS_ENDPOINT_URL).
   */
  readonly codebuild?: CodeBuildClient;
  /**
   * Whether a project's `timeoutMinutes` is sent as the build's `timeoutInMinutesOverride`.
   * Lambda compute takes no build timeout (it stops every build at 15 minutes): turn this off there.
   * @default true
   */
  readonly timeoutOverride?: boolean;
}

/**
 * Starts the worker as a CodeBuild build. The build receives exactly `PROJECTNAME`, `GITBRANCH` and,
 * when given, `GITCOMMIT`, as PLAINTEXT overrides: nothing else of a trigger reaches CodeBuild, and
 * the worker reads everything else (repository, credentials, command) from the registry itself.
 */
export class CodeBuildJobLauncher implements JobLauncher, JobStatusReader {
  private readonly codebuild: CodeBuildClient;
  private readonly projectName: string;
  private readonly timeoutOverride: boolean;

  constructor(props: CodeBuildJobLauncherProps) {
    this.codebuild = props.codebuild ?? new CodeBuildClient({});
    this.projectName = props.projectName;
    this.timeoutOverride = props.timeoutOverride ?? true;
  }

  async start(request: JobRequest): Promise<StartedJob> {
    let buildId: string | undefined;
    let logUrl: string | undefined;
    try {
      const out = await this.codebuild.send(
        new StartBuildCommand({
          projectName: this.projectName,
          environmentVariablesOverride: workerOverrides(request),
          ...(request.idempotencyToken === undefined ? {} : { idempotencyToken: request.idempotencyToken }),
          ...(request.timeoutMinutes === undefined || !this.timeoutOverride
            ? {}
            : { timeoutInMinutesOverride: buildTimeoutMinutes(request.timeoutMinutes) }),
        }),
      );
      buildId = out.build?.id;
      logUrl = buildPageUrl(out.build?.arn, buildId) ?? out.build?.logs?.deepLink;
    } catch (error) {
      throw startError(this.projectName, error);
    }
    if (!buildId) {
      throw new JobStartError(
        'transient',
        `CodeBuild started a build of '${this.projectName}' but sent no id`,
      );
    }
    return { id: buildId, ...(logUrl === undefined ? {} : { logUrl }) };
  }

  async statuses(ids: readonly string[]): Promise<JobStatus[]> {
    const found: JobStatus[] = [];
    // BatchGetBuilds takes at most 100 ids.
    for (let i = 0; i < ids.length; i += 100) {
      let builds: Build[];
      try {
        builds =
          (await this.codebuild.send(new BatchGetBuildsCommand({ ids: ids.slice(i, i + 100) }))).builds ?? [];
      } catch (error) {
        throw startError(this.projectName, error);
      }
      for (const build of builds) {
        const status = build.buildStatus as BuildStatus | undefined;
        if (build.id === undefined || status === undefined || !BUILD_STATUSES.includes(status)) continue;
        const logUrl = buildPageUrl(build.arn, build.id) ?? build.logs?.deepLink;
        found.push({ id: build.id, status, ...(logUrl === undefined ? {} : { logUrl }) });
      }
    }
    return found;
  }
}

/**
 * The build's page in the CodeBuild console, the link CodeBuild itself gives the build as
 * `CODEBUILD_BUILD_URL`: its phases and its log, whatever the project's log settings.
 */
export function buildPageUrl(arn: string | undefined, buildId: string | undefined): string | undefined {
  const region = arn?.split(':')[3];
  if (region === undefined || region === '' || buildId === undefined) return undefined;
  return `https://${region}.console.aws.amazon.com/codesuite/codebuild/projects/${encodeURIComponent(
    buildId.split(':')[0] ?? '',
  )}/build/${encodeURIComponent(buildId)}/?region=${region}`;
}

/** The worker's variable naming its deploy record; the build's state-change events carry it too. */
export const TRIGGER_ID_VAR = 'IWOMP_TRIGGER_ID';

/** The worker's environment overrides: the only values of a trigger that reach CodeBuild. */
export function workerOverrides(request: JobRequest): EnvironmentVariable[] {
  const plain = (name: string, value: string): EnvironmentVariable => ({ name, value, type: 'PLAINTEXT' });
  return [
    plain('PROJECTNAME', request.project),
    plain('GITBRANCH', request.branch),
    ...(request.commit === undefined ? [] : [plain('GITCOMMIT', request.commit)]),
    // The record's key, not a value from the message: a checked SNS MessageId, set by SNS.
    ...(request.triggerId === undefined ? [] : [plain(TRIGGER_ID_VAR, request.triggerId)]),
  ];
}

/**
 * Minutes CodeBuild gives a build whose project sets `timeoutMinutes`: a few more than the worker's
 * own deadline, because CodeBuild's clock also runs while the build is provisioned and its image
 * pulled, before the worker starts. So the worker's deadline passes first and the job fails with
 * its reason and a clean work directory; CodeBuild's stops the build if the worker cannot.
 * Within CodeBuild's range, 5 to 2160.
 */
export function buildTimeoutMinutes(timeoutMinutes: number): number {
  return Math.min(MAX_TIMEOUT_MINUTES, Math.max(5, timeoutMinutes + BUILD_TIMEOUT_MARGIN_MINUTES));
}

const BUILD_TIMEOUT_MARGIN_MINUTES = 5;

const WORKER_PROJECT = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const WORKER_PROJECT_ARN =
  /^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;

/** Checks a CodeBuild project name (2–255 of `[A-Za-z0-9_-]`) or project ARN; returns it unchanged. */
export function parseWorkerProjectName(value: string): string {
  if (!WORKER_PROJECT.test(value) && !WORKER_PROJECT_ARN.test(value)) {
    throw new InvalidInputError(
      'value',
      `expected a CodeBuild project name (2-255 of [A-Za-z0-9_-]) or project ARN, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

// Error names that mean "slow down": waiting helps.
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Maps a StartBuild failure to a one-line JobStartError that says whether to wait or to fix something. */
function startError(projectName: string, error: unknown): JobStartError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const detail = `${name}: ${(e.message ?? String(error)).split('\n')[0]}`;
  const status = e.$metadata?.httpStatusCode;
  const options = { cause: error };
  if (name === 'ResourceNotFoundException') {
    return new JobStartError(
      'configuration',
      `worker project '${projectName}' not found in CodeBuild: check WORKER_PROJECT_NAME and the region (${detail})`,
      options,
    );
  }
  if (name === 'AccessDeniedException' || name === 'AccountSuspendedException' || status === 403) {
    return new JobStartError(
      'configuration',
      `not allowed to start builds of '${projectName}': the launcher's role needs codebuild:StartBuild on it (${detail})`,
      options,
    );
  }
  // CodeBuild's answer when the account's concurrent-build quota (or a project's
  // concurrentBuildLimit) is reached: it refuses rather than queues. The trigger waits its turn.
  if (name === 'AccountLimitExceededException') {
    return new JobLimitError(
      `CodeBuild refused a build for the concurrent-build limit, retry later (${detail})`,
      options,
    );
  }
  if (THROTTLED.has(name) || status === 429) {
    return new JobStartError(
      'transient',
      `CodeBuild is throttling StartBuild, retry later (${detail})`,
      options,
    );
  }
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new JobStartError(
      'transient',
      `CodeBuild failed (server error), retry later (${detail})`,
      options,
    );
  }
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) {
    return new JobStartError(
      'configuration',
      `CodeBuild refused StartBuild of '${projectName}' (${detail})`,
      options,
    );
  }
  // No HTTP answer at all: DNS, connection reset, timeout.
  return new JobStartError('transient', `cannot reach CodeBuild, retry later (${detail})`, options);
}
