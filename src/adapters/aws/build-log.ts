import {
  type CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { deployServiceError } from './deploy-errors.js';

/**
 * The log stream CodeBuild writes a build's log to: the build id's part after the project name
 * (`iwomp-worker:0b1c…` → `0b1c…`). The worker project sets no stream prefix (a prefix would make
 * it `<prefix>/<uuid>`), so the stream is known from the build id alone, without BatchGetBuilds.
 */
export function buildLogStream(buildId: string): string {
  const colon = buildId.indexOf(':');
  return colon === -1 ? buildId : buildId.slice(colon + 1);
}

/** Where a read of a build's log stopped: pass it back to read on from there. */
export type LogCursor = string | undefined;

/** Bounds one read: a page is at most 1 MB or 10,000 events. */
const MAX_PAGES = 50;

/**
 * Reads the worker's log of one build from CloudWatch Logs (GetLogEvents, from the head, page by
 * page with the forward token: the token comes back unchanged once the end is reached).
 */
export class BuildLogReader {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    /** The worker's log group (stack output `WorkerLogGroupName`). */
    readonly groupName: string,
  ) {}

  /**
   * The log's text after `cursor` (from the start when undefined), and the cursor to read on from.
   * A stream that does not exist yet (the build is provisioning) reads as empty.
   */
  async readFrom(buildId: string, cursor: LogCursor): Promise<{ text: string; cursor: LogCursor }> {
    const stream = buildLogStream(buildId);
    let token = cursor;
    let text = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      let out: GetLogEventsCommandOutput;
      try {
        out = await this.logs.send(
          new GetLogEventsCommand({
            logGroupName: this.groupName,
            logStreamName: stream,
            startFromHead: true,
            ...(token === undefined ? {} : { nextToken: token }),
          }),
        );
      } catch (error) {
        // CodeBuild creates the stream while it provisions the build: until then, nothing to read.
        if ((error as { name?: string }).name === 'ResourceNotFoundException' && token === undefined) {
          return { text, cursor: token };
        }
        throw deployServiceError(`cannot read log stream ${stream} of group ${this.groupName}`, error);
      }
      for (const event of out.events ?? []) {
        const message = event.message ?? '';
        // CodeBuild's events end with their newline; anything else gets one, so lines never run together.
        text += message.endsWith('\n') ? message : `${message}\n`;
      }
      // A page may be empty while more follows; the end is the token coming back unchanged.
      const next = out.nextForwardToken;
      if (next === undefined || next === token) {
        return { text, cursor: next ?? token };
      }
      token = next;
    }
    return { text, cursor: token };
  }
}
