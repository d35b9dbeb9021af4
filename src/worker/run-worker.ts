import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { assertBranchAllowed } from '../core/branch-policy.js';
import { deploySession, roleForBranch } from '../core/deploy-role.js';
import { ConfigError, categoryOf } from '../core/errors.js';
import { assertTransportAllowed, type GitRemote, parseGitUrl } from '../core/git-url.js';
import { showName } from '../core/names.js';
import type { GitAuth } from '../core/project-config.js';
import { projectSecrets, Redactor } from '../core/redact.js';
import type { DeployCredentials, TemporaryCredentials } from '../ports/deploy-credentials.js';
import { loadProjectConfig, type Registry } from '../ports/registry.js';
import { commandEnvironment } from './command-env.js';
import { CommitStatusReporter } from './commit-status.js';
import { resolveDeployDir } from './deploy-dir.js';
import type { WorkerEnv } from './env.js';
import { fetchBranch } from './git-fetch.js';
import { StopReason } from './process-group.js';
import { silentReporter, type WorkerReporter } from './reporter.js';
import { lookUpUser, type PreparedUser, prepareUser } from './run-as.js';
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
  /** Where the project's deploy role comes from (STS in AWS). Only asked when it names one. */
  readonly deployCredentials: DeployCredentials;
  /** The worker's own user id: switching to `runAs` needs root. @default process.getuid() */
  readonly uid?: number;
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
  if (config.droppedDefaultCredentials !== undefined) log(config.droppedDefaultCredentials);
  assertBranchAllowed(env.project, env.branch, config.branches);
  const remote = parseGitUrl(config.gitUrl);
  assertTransportAllowed(remote, { local: env.local });
  assertAuthFits(remote, config.auth);

  const secrets = projectSecrets(config);
  const redactor = new Redactor(secrets);
  const statuses =
    config.commitStatus === undefined
      ? undefined
      : new CommitStatusReporter({
          setting: config.commitStatus,
          project: env.project,
          redactor,
          ...(env.buildUrl === undefined ? {} : { targetUrl: env.buildUrl }),
          log,
        });
  // The commit actually checked out, once known: the only commit a status is ever set on.
  let commit: string | undefined;
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
    log(`fetching ${env.project} branch ${showName(env.branch)} from ${remote.url}`);
    commit = await fetchBranch({
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
      ...(config.sparsePaths ? { sparsePaths: config.sparsePaths } : {}),
      log,
    });
    log(`checked out ${commit} in ${((performance.now() - started) / 1000).toFixed(2)}s`);
    reporter.report({ type: 'checkout', commit });

    const cwd = await resolveDeployDir(cloneDir, config.deployDir);
    const user = await commandUser(env, deps, workDir, cloneDir, log);
    const roleArn = roleForBranch(config.deployRole, env.branch);
    let credentials: TemporaryCredentials | undefined;
    if (roleArn === undefined) {
      log(`no deployRole for branch ${showName(env.branch)}: the deploy command gets no AWS credentials`);
    } else {
      const session = deploySession({
        project: env.project,
        branch: env.branch,
        commit,
        ...(env.buildId === undefined ? {} : { buildId: env.buildId }),
      });
      credentials = await deps.deployCredentials.assume(roleArn, session);
      log(`assumed ${roleArn} as ${session.sessionName} (source identity ${session.sourceIdentity})`);
    }
    // The role's keys are secrets of this job too: the command's output must not print them.
    const commandRedactor =
      credentials === undefined
        ? redactor
        : new Redactor([...secrets, credentials.secretAccessKey, credentials.sessionToken]);
    const argv = [...config.command, env.branch];
    reporter.report({ type: 'phase', phase: 'command' });
    statuses?.set(commit, 'pending', `deploying ${env.branch}`);
    // Each argument is redacted before quoting: a secret with a quote or backslash in it would
    // no longer match once JSON-escaped.
    log(`running ${JSON.stringify(argv.map((arg) => redactor.redact(arg)))} in ${config.deployDir}`);
    await runCommand({
      argv,
      cwd,
      env: commandEnvironment(
        deps.inheritedEnv,
        commandRedactor,
        { project: env.project, branch: env.branch, commit },
        {
          ...(credentials === undefined ? {} : { credentials }),
          ...(user === undefined ? {} : { user }),
        },
      ),
      redactor: commandRedactor,
      stdout: deps.stdout,
      stderr: deps.stderr,
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      onSpawn: (pid) => reporter.report({ type: 'command', pid }),
      signal: stop.signal,
    });
    log(`deployed ${env.project} ${showName(env.branch)} at ${commit}`);
    statuses?.set(commit, 'success', `deployed ${env.branch}`);
    return { commit };
  } catch (error) {
    if (error instanceof Error) error.message = redactor.redact(error.message);
    if (commit !== undefined) {
      // The command ran and failed (or was stopped): failure; the worker could not run it: error.
      const state = categoryOf(error) === 'command' ? 'failure' : 'error';
      statuses?.set(commit, state, error instanceof Error ? error.message : 'the deploy did not run');
    }
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (workDir !== undefined && !env.keepWorkDir) await rm(workDir, { recursive: true, force: true });
    await statuses?.settled();
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

/**
 * The user the deploy command runs as. Switching needs root; where the worker is not root (a
 * local run, CodeBuild's Lambda compute) the command runs as the worker's own user, and the log
 * says what that means.
 */
async function commandUser(
  env: WorkerEnv,
  deps: WorkerDeps,
  workDir: string,
  cloneDir: string,
  log: (line: string) => void,
): Promise<PreparedUser | undefined> {
  if (env.runAs === undefined) {
    log("IWOMP_RUN_AS is not set: the deploy command runs as the worker's own user");
    return undefined;
  }
  const uid = deps.uid ?? process.getuid?.();
  if (uid !== 0) {
    log(
      `cannot run the deploy command as ${env.runAs}: the worker is not root; it runs as the ` +
        "worker's own user and could read the worker's memory and environment",
    );
    return undefined;
  }
  const user = await prepareUser(await lookUpUser(env.runAs), workDir, cloneDir);
  log(`the deploy command runs as ${user.name} (uid ${user.uid}), HOME ${user.home}`);
  return user;
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
