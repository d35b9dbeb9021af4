import type { CliIo } from './io.js';

/** The Node.js majors the CLI supports: those Lambda and CodeBuild offer (package.json `engines`). */
export const SUPPORTED_NODE_MAJORS = [22, 24] as const;

/**
 * The SDK's own opt-out of its "upgrade Node" notice. The CLI honours it for its one-line notice
 * too: whoever set it has already been told.
 */
export const SDK_NODE_WARNING_OPT_OUT = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * The one line to print before the first AWS call on an unsupported Node.js, or undefined. It
 * replaces the AWS SDK's nine-line notice, which the CLI entry turns off (src/entries/cli.ts).
 * A warning, not a refusal: older Node.js still runs the CLI today, and a CI pinned to it should
 * learn of the end of support without its deploys stopping.
 */
export function unsupportedNodeNotice(
  env: Readonly<Record<string, string | undefined>>,
  version: string = process.version,
): string | undefined {
  if (env[SDK_NODE_WARNING_OPT_OUT] === 'true') return undefined;
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (major >= SUPPORTED_NODE_MAJORS[0]) return undefined;
  return `iwomp: warning: Node.js ${version} is not supported (end of life); use Node.js ${SUPPORTED_NODE_MAJORS.join(' or ')}\n`;
}

/** Prints the notice at most once per `io`: a command that makes several SDK clients says it once. */
export function noticeUnsupportedNode(
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
  version: string = process.version,
): void {
  if (noticed.has(io)) return;
  noticed.add(io);
  const notice = unsupportedNodeNotice(env, version);
  if (notice !== undefined) io.stderr.write(notice);
}

const noticed = new WeakSet<CliIo>();
