import * as z from 'zod/mini';
import { InvalidInputError } from './errors.js';
import { duplicateJsonKey } from './json-keys.js';
import { parseBranchName, parseCommit, parseProjectName, quote } from './names.js';
import { formatIssues } from './project-config.js';

/** Largest trigger message accepted, in bytes of UTF-8. A real one is under 200. */
export const MAX_MESSAGE_BYTES = 4096;

/** What CI may say: which registered project and branch to deploy, and optionally the commit it tested. */
export interface TriggerMessage {
  readonly project: string;
  readonly branch: string;
  readonly commit?: string;
}

const MessageSchema = z.strictObject({
  project: z.string(),
  branch: z.string(),
  commit: z.optional(z.string()),
});

/**
 * Parses an untrusted trigger message (the SNS message body). Nothing else in it is accepted:
 * unknown keys (`gitUrl`, `command`, …) are refused by name, so CI can never steer the build.
 */
export function parseTriggerMessage(text: string): TriggerMessage {
  if (Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) {
    throw new InvalidInputError('message', `message is larger than ${MAX_MESSAGE_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidInputError('message', 'message is not valid JSON');
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined) {
    throw new InvalidInputError('message', `message has the key ${quote(duplicate)} more than once`);
  }
  return validateTriggerMessage(json);
}

/** Checks an already-parsed message object (the CLI builds one before publishing). */
export function validateTriggerMessage(json: unknown): TriggerMessage {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputError('message', 'message must be a JSON object {"project", "branch", "commit"?}');
  }
  const result = MessageSchema.safeParse(json);
  if (!result.success) throw new InvalidInputError('message', `message: ${formatIssues(result.error)}`);
  const { project, branch, commit } = result.data;
  return {
    project: parseProjectName(project),
    branch: parseBranchName(branch),
    ...(commit === undefined ? {} : { commit: parseCommit(commit) }),
  };
}

/** The message text for a trigger: built by serialization, never by string concatenation. */
export function formatTriggerMessage(message: TriggerMessage): string {
  return JSON.stringify(message);
}
