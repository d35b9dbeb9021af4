import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { parseTopicScopes, topicRefusal } from '../../src/core/topic-scope.js';
import { parseLauncherEnv } from '../../src/launcher/env.js';

const WEB = 'arn:aws:sns:eu-west-1:123456789012:Test-PipelineWebTrigger1A2B3C';
const OTHER = 'arn:aws:sns:eu-west-1:123456789012:Test-PipelineTopic9Z8Y7X';

describe('topic scopes', () => {
  it('reads the list the construct writes, and refuses only other projects on a scoped topic', () => {
    // GIVEN one scoped topic
    const scopes = parseTopicScopes(JSON.stringify([{ topicArn: WEB, projects: ['web', 'web-docs'] }]));
    // THEN its projects pass, others are refused, and an unscoped topic passes everything
    expect(topicRefusal(scopes, WEB, 'web')).toBeUndefined();
    expect(topicRefusal(scopes, WEB, 'web-docs')).toBeUndefined();
    expect(topicRefusal(scopes, WEB, 'billing')).toBe(
      `project "billing" cannot be triggered through topic ${WEB}: it may trigger only web, web-docs`,
    );
    expect(topicRefusal(scopes, OTHER, 'billing')).toBeUndefined();
    expect(topicRefusal(scopes, undefined, 'web')).toMatch(/no Sns\.TopicArn/);
    expect(topicRefusal(new Map(), undefined, 'web')).toBeUndefined();
  });

  it.each([
    ['not json', /is not JSON/],
    ['{}', /expected a list/],
    [
      JSON.stringify([{ topicArn: 'arn:aws:sqs:eu-west-1:123456789012:q', projects: ['web'] }]),
      /SNS topic ARN/,
    ],
    [JSON.stringify([{ topicArn: WEB, projects: [] }]), /lists no projects/],
    [JSON.stringify([{ topicArn: WEB, projects: ['../x'] }]), /invalid project name/],
    [
      JSON.stringify([
        { topicArn: WEB, projects: ['a'] },
        { topicArn: WEB, projects: ['b'] },
      ]),
      /listed twice/,
    ],
  ])('refuses %s, naming the variable', (text, message) => {
    expect(() => parseTopicScopes(text)).toThrow(EnvironmentError);
    expect(() => parseTopicScopes(text)).toThrow(message);
    expect(() => parseTopicScopes(text)).toThrow(/^IWOMP_TOPIC_PROJECTS: /);
  });

  it('is read from the launcher environment only when set', () => {
    // IWOMP_DEPLOY_TABLE: required by the launcher since issue 11, beside the point here.
    const table = { IWOMP_DEPLOY_TABLE: 'iwomp-deploys' };
    expect(parseLauncherEnv({ WORKER_PROJECT_NAME: 'w1', ...table }).topicScopes).toBeUndefined();
    const env = parseLauncherEnv({
      WORKER_PROJECT_NAME: 'w1',
      ...table,
      IWOMP_TOPIC_PROJECTS: JSON.stringify([{ topicArn: WEB, projects: ['web'] }]),
    });
    expect(env.topicScopes).toEqual(new Map([[WEB, new Set(['web'])]]));
  });
});
