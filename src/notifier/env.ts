import { readVar, requiredVar } from '../core/env-vars.js';
import { InvalidInputError } from '../core/errors.js';

/** The notifier Lambda's environment, read once at the edge. */
export interface NotifierEnv {
  /** `IWOMP_RESULTS_TOPIC_ARN`: where final results are published. */
  readonly resultsTopicArn: string;
}

/** Reads and checks the notifier's environment; a problem is one line naming its variable. */
export function parseNotifierEnv(env: NodeJS.ProcessEnv): NotifierEnv {
  return {
    resultsTopicArn: readVar('IWOMP_RESULTS_TOPIC_ARN', () =>
      parseTopicArn(requiredVar(env.IWOMP_RESULTS_TOPIC_ARN)),
    ),
  };
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function parseTopicArn(value: string): string {
  if (!TOPIC_ARN.test(value)) {
    throw new InvalidInputError('value', `expected an SNS topic ARN, got ${JSON.stringify(value)}`);
  }
  return value;
}
