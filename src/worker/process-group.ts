/**
 * Why a step of the worker was stopped before it ended: the job's or the fetch's deadline passed,
 * or the worker was told to stop (CodeBuild stops a build with SIGTERM). Used as the reason of an
 * `AbortSignal`, so every step reads the same cause.
 */
export class StopReason {
  constructor(
    /** One line for the failure message, e.g. `the job deadline of 30 minutes (timeoutMinutes) passed`. */
    readonly message: string,
    /** True for a deadline; false for a signal the worker received. */
    readonly deadline: boolean,
    /** The signal to send a stopped command first; it gets SIGKILL after a grace period. */
    readonly signal: NodeJS.Signals = 'SIGTERM',
  ) {}
}

/** The reason an aborted signal carries, as a StopReason (anything else reads as a plain stop). */
export function stopReasonOf(signal: AbortSignal): StopReason {
  return signal.reason instanceof StopReason ? signal.reason : new StopReason('stopped', false);
}

/**
 * Sends a signal to every process of a group. A child spawned with `detached: true` leads its own
 * group, which its own children (git's `git-remote-http`, `index-pack`, ssh; a deploy script's
 * tools) join: killing the group reaches them all, even after the leader has exited.
 */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the whole group is gone already, nothing left to stop.
  }
}

/**
 * When `signal` aborts, stops the group `pgid`: first `first` (SIGTERM lets a deploy script clean
 * up), then SIGKILL after `graceMs` for whatever is still there. Returns the function to call once
 * the child has exited: it disarms the watch and, if the job was stopped, kills what is left of
 * the group at once (a background child the leader left behind).
 */
export function stopGroupOnAbort(
  pgid: number | undefined,
  signal: AbortSignal | undefined,
  options: { first: (reason: StopReason) => NodeJS.Signals; graceMs: number },
): () => void {
  if (signal === undefined) return () => {};
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    const first = options.first(stopReasonOf(signal));
    killGroup(pgid, first);
    if (first !== 'SIGKILL') {
      timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), options.graceMs);
      timer.unref();
    }
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return () => {
    signal.removeEventListener('abort', stop);
    if (timer !== undefined) clearTimeout(timer);
    if (signal.aborted) killGroup(pgid, 'SIGKILL');
  };
}
