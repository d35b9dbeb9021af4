import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { duplicateJsonKey } from '../../src/core/json-keys.js';
import { parseProjectDocument } from '../../src/core/project-config.js';
import { parseTriggerMessage } from '../../src/core/trigger-message.js';

describe('duplicateJsonKey', () => {
  it.each([
    ['{"project":"nope","branch":"main","project":"demo"}', 'project'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"x":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"c":[{"d":1,"d":2}]}]', 'd'],
    ['{"a":"\\"b\\":","b":1,"b":2}', 'b'],
    ['{ "a" : 1 , "a" : 1 }', 'a'],
  ])('finds the duplicate in %s', (text, key) => {
    // GIVEN valid JSON (JSON.parse keeps the last value) / WHEN scanned / THEN the key is named
    expect(() => JSON.parse(text)).not.toThrow();
    expect(duplicateJsonKey(text)).toBe(key);
  });

  it.each([
    '{"a":1,"b":{"a":2}}',
    '[{"a":1},{"a":2}]',
    '{"a":"a","b":"a"}',
    '{"a":["a","a"],"b":"\\\\"}',
    '{}',
    '"a"',
  ])('finds none in %s', (text) => {
    expect(duplicateJsonKey(text)).toBeUndefined();
  });
});

describe('duplicate keys are refused', () => {
  it('in a trigger message, with a one-line reason', () => {
    // GIVEN the message of the report: the first "project" is what a reader sees
    const text = '{"project":"nope","branch":"main","project":"demo"}';
    // WHEN parsed / THEN refused, not read as demo
    expect(() => parseTriggerMessage(text)).toThrow(InvalidInputError);
    expect(() => parseTriggerMessage(text)).toThrow(/^message has the key "project" more than once$/);
    expect(() => parseTriggerMessage('{"project":"demo","branch":"main","\\u0062ranch":"dev"}')).toThrow(
      /key "branch" more than once/,
    );
  });

  it('in a project document', () => {
    const text = '{"gitUrl":"https://a.example/r.git","command":"x","gitUrl":"https://evil.example/r.git"}';
    expect(() => parseProjectDocument(text, '/iwomp-in-aws/demo')).toThrow(
      /^\/iwomp-in-aws\/demo has the key "gitUrl" more than once$/,
    );
  });
});
