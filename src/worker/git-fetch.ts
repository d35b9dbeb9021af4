import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { quoteName } from '../core/display.js';
import { CloneError, SupersededError } from '../core/errors.js';
import type { GitRemote } from '../core/git-url.js';
import type { GitAuth } from '../core/project-config.js';
import type { Redactor } from '../core/redact.js';
import { gitEnvironment, type SshFiles } from './git-env.js';
import { StopReason, stopGroupOnAbort, stopReasonOf } from './process-group.js';
import { filterWasIgnored, PARTIAL_FETCH_ARGS, sparseCheckoutStep } from './sparse-fetch.js';

/** How long the whole fetch (init to checkout) may take unless `IWOMP_FETCH_TIMEOUT` says otherwise. */
export const DEFAULT_FETCH_TIMEOUT_SECONDS = 600;

export interface FetchBranchOptions {
  readonly remote: GitRemote;
  readonly auth: GitAuth;
  /** A branch name already checked by `parseBranchName`. */
  readonly branch: string;
  /** When set, the branch head must be this commit, or the job is superseded. */
  readonly commit?: string;
  /** An empty directory to clone into. */
  readonly dir: string;
  /** A private directory for credential files; removed before this function returns. */
  readonly secretsDir: string;
  readonly redactor: Redactor;
  /** Where git's own messages go, redacted. */
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  /** Aborts when the job must stop (its deadline, SIGTERM): every git process is killed. */
  readonly signal?: AbortSignal;
  /**
   * The fetch's own deadline, in seconds: git and its helpers are killed when it passes.
   * @default DEFAULT_FETCH_TIMEOUT_SECONDS
   */
  readonly timeoutSeconds?: number;
  /**
   * Directories to fetch and check out (cone mode), for a `deployDir` below the root: a partial
   * clone then downloads only their files. Undefined: the whole tree.
   */
  readonly sparsePaths?: readonly string[];
  /** Where the fetch says what it did beyond the plain clone (one line each). */
  readonly log?: (line: string) => void;
}

/**
 * Shallow, single-branch clone of one branch, made of plumbing steps so that the branch name
 * only ever reaches git after `--end-of-options` (the fetch refspec) or as a config value in the
 * environment (`init.defaultBranch`), never where it could be read as an option, and the commit
 * is checked before any file is checked out. Returns the commit checked out.
 */
export async function fetchBranch(options: FetchBranchOptions): Promise<string> {
  const { remote, auth, branch, dir } = options;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_FETCH_TIMEOUT_SECONDS;
  const deadline = new AbortController();
  const timer = setTimeout(
    () =>
      deadline.abort(
        new StopReason(
          `the fetch from ${remote.url} did not end within ${timeoutSeconds}s (IWOMP_FETCH_TIMEOUT)`,
          true,
        ),
      ),
    timeoutSeconds * 1000,
  );
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  try {
    const ssh = auth.kind === 'ssh' ? await writeSshFiles(options.secretsDir, auth) : undefined;
    // A transfer that stalls for a minute is given up on, or sooner when the whole fetch has less.
    const lowSpeedSeconds = Math.max(1, Math.min(60, Math.floor(timeoutSeconds / 2)));
    const env = gitEnvironment(options.env, remote, auth, branch, ssh, lowSpeedSeconds);
    const run = (args: string[], input?: string) =>
      runGit(args, {
        cwd: dir,
        env,
        redactor: options.redactor,
        stderr: options.stderr,
        signal,
        ...(input === undefined ? {} : { input }),
      });
    // Every step but the fetch fails the same way; the fetch's failure is told apart below.
    const git = async (args: string[], input?: string) => {
      const result = await run(args, input);
      if (result.code !== 0) {
        throw new CloneError(`git ${args[0]} failed (exit ${result.code}): ${gitReason(result.stderr)}`);
      }
      return result;
    };
    const objectFormat = options.commit?.length === 64 ? 'sha256' : 'sha1';

    await mkdir(dir, { recursive: true });
    await git(['init', '--quiet', '--template=', `--object-format=${objectFormat}`]);
    await git(['remote', 'add', '--end-of-options', 'origin', remote.url]);
    const sparse = options.sparsePaths;
    if (sparse) {
      const step = sparseCheckoutStep(sparse);
      await git(step.args, step.input);
    }
    const fetched = await run([
      'fetch',
      '--quiet',
      '--depth=1',
      '--no-tags',
      '--update-head-ok',
      ...(sparse ? PARTIAL_FETCH_ARGS : []),
      '--end-of-options',
      'origin',
      `+refs/heads/${branch}:refs/heads/${branch}`,
      `+refs/heads/${branch}:refs/remotes/origin/${branch}`,
    ]);
    if (fetched.code !== 0) {
      const missing = /couldn't find remote ref/i.test(fetched.stderr);
      const redirect = /returned error: (30[123578])\b/.exec(fetched.stderr);
      if (redirect) {
        throw new CloneError(
          `${remote.url} answered with a redirect (HTTP ${redirect[1]}), which the worker does not follow so that ` +
            'credentials only go to the host of gitUrl: register the repository under its final URL',
        );
      }
      throw new CloneError(
        missing
          ? `branch ${quoteName(branch)} does not exist in ${remote.url}`
          : `git fetch of ${remote.url} failed (exit ${fetched.code}): ${gitReason(fetched.stderr)}`,
      );
    }
    if (sparse) {
      options.log?.(
        filterWasIgnored(fetched.stderr)
          ? `${remote.url} does not support partial clone (uploadpack.allowFilter): fetched every file of the commit; checking out ${sparse.join(', ')} only`
          : `partial clone: fetching the files of ${sparse.join(', ')} and of the root only`,
      );
    }
    const head =
      (await fetchedCommit(dir, objectFormat)) ??
      (await git(['rev-parse', '--verify', 'HEAD'])).stdout.trim();
    if (options.commit !== undefined && head !== options.commit) {
      throw new SupersededError(branch, options.commit, head);
    }
    // In a partial clone this is where the blobs are fetched (one batch, from `origin`), still with
    // the credentials of `env`, which is why the secrets directory outlives it.
    await git(['reset', '--quiet', '--hard', head]);
    return head;
  } finally {
    clearTimeout(timer);
    await rm(options.secretsDir, { recursive: true, force: true });
  }
}

const OID = { sha1: /^[0-9a-f]{40}$/, sha256: /^[0-9a-f]{64}$/ };

/**
 * The commit the fetch brought, from the FETCH_HEAD file git just wrote (one `<oid>\t\t<what>`
 * line per refspec, both of the same branch): one git process fewer than `rev-parse`, which is
 * the fallback when the file is not what this expects.
 */
async function fetchedCommit(dir: string, format: keyof typeof OID): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, '.git', 'FETCH_HEAD'), 'utf8');
  } catch {
    return undefined;
  }
  const oids = new Set(
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t', 1)[0] ?? ''),
  );
  const [oid] = oids;
  return oids.size === 1 && oid !== undefined && OID[format].test(oid) ? oid : undefined;
}

async function writeSshFiles(secretsDir: string, auth: Extract<GitAuth, { kind: 'ssh' }>): Promise<SshFiles> {
  await mkdir(secretsDir, { recursive: true, mode: 0o700 });
  const files = { keyFile: join(secretsDir, 'id'), knownHostsFile: join(secretsDir, 'known_hosts') };
  // ssh refuses a key without its final newline, and any key file others can read.
  await writeFile(files.keyFile, auth.privateKey.endsWith('\n') ? auth.privateKey : `${auth.privateKey}\n`, {
    mode: 0o600,
  });
  await writeFile(files.knownHostsFile, `${auth.knownHosts.trim()}\n`, { mode: 0o600 });
  return files;
}

interface GitResult {
  readonly code: number;
  readonly stdout: string;
  /** Redacted. */
  readonly stderr: string;
}

/**
 * Runs git with an argv array (no shell). Its stderr is redacted, then shown and kept for messages.
 * git runs in its own process group, so that a stop kills it with every helper it started
 * (`git-remote-http` holds the credentials in its environment, `index-pack`, ssh).
 */
function runGit(
  args: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    redactor: Redactor;
    stderr: Writable;
    signal: AbortSignal;
    /** Written to git's stdin (then closed); without it, git's stdin is /dev/null. */
    input?: string;
  },
): Promise<GitResult> {
  const stopped = () => new CloneError(`git ${args[0]} stopped: ${stopReasonOf(options.signal).message}`);
  if (options.signal.aborted) return Promise.reject(stopped());
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    if (child.stdin) {
      // A git that exits before reading its input reports the failure through its exit code; the
      // EPIPE on our side adds nothing.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    // git keeps nothing worth a graceful stop: its directory is thrown away.
    const disarm = stopGroupOnAbort(child.pid, options.signal, { first: () => 'SIGKILL', graceMs: 0 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (error) => {
      disarm();
      reject(new CloneError(`cannot run git: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      disarm();
      const redacted = options.redactor.redact(stderr);
      if (redacted.length > 0) options.stderr.write(redacted);
      if (options.signal.aborted) reject(stopped());
      else resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: redacted });
    });
  });
}

/**
 * git's reason for a failure: its first `fatal:` or `error:` line. The last line is often the tail
 * of an advice paragraph ("and the repository exists."), which names no cause.
 */
function gitReason(text: string): string {
  const lines = text.trim().split('\n');
  const reason = lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[lines.length - 1] ?? '';
  return reason.replace(/^(fatal|error):\s*/, '').trim() || 'no message';
}
