/** Where the CLI writes. `process.stdout` fits; tests pass a collector. */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** The CLI's output: results on stdout, failures and progress on stderr. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Whether stderr may carry ANSI colour: a TTY, and `NO_COLOR` unset. */
  readonly colour: boolean;
}

export function createIo(
  stdout: OutputStream,
  stderr: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
): CliIo {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return { stdout, stderr, colour: stderr.isTTY === true && !noColour && env.TERM !== 'dumb' };
}

/** The one line a failure prints: `iwomp: <message>`, red on a terminal. */
export function formatFailure(io: CliIo, message: string): string {
  // A message is one line by contract; an unexpected multi-line one is cut rather than spilled.
  const line = `iwomp: ${message.split('\n')[0]}`;
  return io.colour ? `\u001b[31m${line}\u001b[0m\n` : `${line}\n`;
}

/** Writes a `--json` result: one JSON document, so scripts can pipe it to `jq`. */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Lays out rows as aligned columns (for `projects list`). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
