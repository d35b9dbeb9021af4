import { describe, expect, it } from 'vitest';
import { sdkErrorText, sdkFailure } from '../../src/adapters/aws/sdk-error.js';
import { EnvironmentError } from '../../src/core/errors.js';

const sdkError = (name: string, status?: number) =>
  Object.assign(new Error(`${name} said no\nsecond line`), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });

describe('SDK errors, as every AWS adapter reports them', () => {
  it('calls denied or credential-less answers misconfigured, and what waiting may cure unavailable', () => {
    // GIVEN answers of every kind
    // WHEN their failure is asked for
    // THEN only a person can fix the first group; the rest may pass
    for (const name of [
      'AccessDenied',
      'AccessDeniedException',
      'UnrecognizedClientException',
      'ExpiredTokenException',
    ]) {
      expect(sdkFailure(sdkError(name))).toBe('misconfigured');
    }
    expect(sdkFailure(sdkError('SomethingNew', 403))).toBe('misconfigured');
    expect(sdkFailure(new EnvironmentError('AWS_ACCESS_KEY_ID', 'is required'))).toBe('misconfigured');
    for (const error of [
      sdkError('ThrottlingException', 400),
      sdkError('InternalServerError', 500),
      new Error('socket hang up'),
      'text',
    ]) {
      expect(sdkFailure(error)).toBe('unavailable');
    }
  });

  it("adds a service's own answers, and only for that service", () => {
    const missing = new Set(['ResourceNotFoundException']);
    expect(sdkFailure(sdkError('ResourceNotFoundException'), missing)).toBe('misconfigured');
    expect(sdkFailure(sdkError('ResourceNotFoundException'))).toBe('unavailable');
  });

  it('says what AWS answered in one line', () => {
    expect(sdkErrorText(sdkError('ThrottlingException'))).toBe(
      'ThrottlingException: ThrottlingException said no',
    );
    expect(sdkErrorText('plain')).toBe('Error: plain');
  });
});
