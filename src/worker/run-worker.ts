import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { assertBranchAllowed } from '../core/branch-policy.js';
import { ConfigError } from '../core/errors.js';
import { assertTransportAllowed, type GitRemote, parseGitUrl } from '../core/git-url.js';
import type { GitAuth } from '../core/project-config.js';
import { Redactor, secretValues } from '../core/redact.js';
import { loadProjectConfig, type Registry } from '../ports/registry.js';
import { resolveDeployDir } from './deploy-dir.js';
import type { WorkerEnv } from './env.js';
import { fetchBranch } from './git-fetch.js';
import { StopReason } from './process-group.js';
import { silentReporter, type WorkerReporter } from './reporter.js';
import { runCommand } from './run-command.js';

export interface WorkerDeps {
  readonly registry: Registry;
  /** The environment the worker itself was started with: the base for git's and the command's. */
  readonly inheritedEnv: NodeJS.ProcessEnv;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /**
   * Where SIGTERM and SIGINT come from (CodeBuild stops a build with SIGTERM): either stops the
   * job, kills git or the command with everything they started, and removes the work directory.
   * @default process
   */
  readonly signals?: NodeJS.EventEmitter;
  /**
   * Where the worker reports its phase (the outcome is reported by its caller).
   * @default - nowhere
   */
  readonly reporter?: WorkerReporter;
}

/** What a finished deploy did. */
export interface WorkerResult {
  readonly commit: string;
}

/**
 * One deploy: read the project from the registry, enforce its branch rules, fetch the branch,
 * check the commit CI tested, and run the deploy command in `deployDir`. Throws the named error
 * of the step that failed; its message never holds a secret.
 */
export async function runWorker(env: WorkerEnv, deps: WorkerDeps): Promise<WorkerResult> {
  const log = (line: string) => deps.stderr.write(`[iwomp] ${line}\n`);
  const reporter = deps.reporter ?? silentReporter;
  const config = await loadProjectConfig(deps.registry, env.project);
  assertBranchAllowed(env.project, env.branch, config.branches);
  const remote = parseGitUrl(config.gitUrl);
  assertTransportAllowed(remote, { local: env.local });
  assertAuthFits(remote, config.auth);

  const redactor = new Redactor(secretValues(config.auth));
  // From here on the job can be stopped: a signal or the deadline aborts `stop`, each step kills
  // its processes, and `finally` removes the work directory before the worker exits.
  const stop = new AbortController();
  const signals = deps.signals ?? process;
  const onSignal = (signal: NodeJS.Signals) =>
    stop.abort(new StopReason(`the worker received ${signal}`, false, signal));
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
  const deadline = jobDeadline(config.timeoutMinutes, env.jobTimeoutSeconds);
  const timer =
    deadline === undefined
      ? undefined
      : setTimeout(() => stop.abort(new StopReason(deadline.reason, true)), deadline.seconds * 1000);
  stop.signal.addEventListener('abort', () => log(`stopping: ${(stop.signal.reason as StopReason).message}`));

  let workDir: string | undefined;
  try {
    workDir = await mkdtemp(join(env.workRoot ?? tmpdir(), `iwomp-${env.project}-`));
    const cloneDir = join(workDir, 'src');
    const started = performance.now();
    reporter.report({ type: 'phase', phase: 'clone' });
    log(`fetching ${env.project} branch ${env.branch} from ${remote.url}`);
    const commit = await fetchBranch({
      remote,
      auth: config.auth,
      branch: env.branch,
      ...(env.commit === undefined ? {} : { commit: env.commit }),
      dir: cloneDir,
      secretsDir: join(workDir, 'auth'),
      redactor,
      stderr: deps.stderr,
      env: deps.inheritedEnv,
      signal: stop.signal,
      ...(env.fetchTimeoutSeconds === undefined ? {} : { timeoutSeconds: env.fetchTimeoutSeconds }),
    });
    log(`checked out ${commit} in ${((performance.now() - started) / 1000).toFixed(2)}s`);

    const cwd = await resolveDeployDir(cloneDir, config.deployDir);
    const argv = [...config.command, env.branch];
    reporter.report({ type: 'phase', phase: 'command' });
    log(`running ${JSON.stringify(argv)} in ${config.deployDir}`);
    await runCommand({
      argv,
      cwd,
      env: commandEnvironment(deps.inheritedEnv, redactor, {
        project: env.project,
        branch: env.branch,
        commit,
      }),
      redactor,
      stdout: deps.stdout,
      stderr: deps.stderr,
      signal: stop.signal,
    });
    log(`deployed ${env.project} ${env.branch} at ${commit}`);
    return { commit };
  } catch (error) {
    if (error instanceof Error) error.message = redactor.redact(error.message);
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (workDir !== undefined && !env.keepWorkDir) await rm(workDir, { recursive: true, force: true });
    // Only now: a SIGTERM during the removal must not end the worker half-way through it.
    signals.off('SIGTERM', onSignal);
    signals.off('SIGINT', onSignal);
  }
}

/**
 * The job's deadline: the project's `timeoutMinutes`, else `IWOMP_JOB_TIMEOUT`, else none (the
 * build's own timeout applies). Counted from when the worker has read the project; CodeBuild's clock
 * started earlier, at provisioning, and gets a margin for it (see codebuild-job-launcher.ts).
 */
export function jobDeadline(
  timeoutMinutes: number | undefined,
  envSeconds: number | undefined,
): { seconds: number; reason: string } | undefined {
  if (timeoutMinutes !== undefined) {
    return {
      seconds: timeoutMinutes * 60,
      reason: `the job deadline of ${timeoutMinutes} minute${timeoutMinutes === 1 ? '' : 's'} (timeoutMinutes) passed`,
    };
  }
  if (envSeconds !== undefined) {
    return { seconds: envSeconds, reason: `the job deadline of ${envSeconds}s (IWOMP_JOB_TIMEOUT) passed` };
  }
  return undefined;
}

function assertAuthFits(remote: GitRemote, auth: GitAuth): void {
  const http = remote.transport === 'https' || remote.transport === 'http';
  if ((auth.kind === 'token' || auth.kind === 'basic') && !http) {
    throw new ConfigError(`authToken and basic credentials work with http(s) URLs only, not ${remote.url}`);
  }
  if (auth.kind === 'ssh' && remote.transport !== 'ssh') {
    throw new ConfigError(`sshPrivateKey works with ssh URLs only, not ${remote.url}`);
  }
}

/**
 * The deploy command's environment: the worker's own (AWS credentials of the build role
 * included: deploying is the point), minus git's settings, minus any variable that holds a
 * registry secret, plus what the command needs to know about the job.
 */
export function commandEnvironment(
  inherited: NodeJS.ProcessEnv,
  redactor: Redactor,
  job: { project: string; branch: string; commit: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(inherited)) {
    if (key.startsWith('GIT_CONFIG_') || key === 'IWOMP_REPORT_FD' || value === undefined) continue;
    if (redactor.redact(value) !== value) continue;
    env[key] = value;
  }
  env.IWOMP_PROJECT = job.project;
  env.IWOMP_BRANCH = job.branch;
  env.IWOMP_COMMIT = job.commit;
  return env;
}
