import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseNotifierEnv } from '../../src/notifier/env.js';

describe('notifier environment', () => {
  it('reads the results topic', () => {
    // GIVEN the topic's ARN
    const topic = 'arn:aws:sns:eu-west-1:123456789012:iwomp-results';
    // WHEN / THEN it is the one setting
    expect(parseNotifierEnv({ IWOMP_RESULTS_TOPIC_ARN: topic })).toEqual({ resultsTopicArn: topic });
  });

  it.each([
    [{}, /^IWOMP_RESULTS_TOPIC_ARN: is required$/],
    [{ IWOMP_RESULTS_TOPIC_ARN: '' }, /^IWOMP_RESULTS_TOPIC_ARN: is required$/],
    [
      { IWOMP_RESULTS_TOPIC_ARN: 'results' },
      /^IWOMP_RESULTS_TOPIC_ARN: expected an SNS topic ARN, got "results"$/,
    ],
  ])('refuses %j in one line naming the variable', (env, message) => {
    // GIVEN / WHEN / THEN parsing throws an EnvironmentError with that one line
    expect(() => parseNotifierEnv(env)).toThrow(EnvironmentError);
    expect(() => parseNotifierEnv(env)).toThrow(message);
  });
});
