import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { AwsServiceError, awsErrorText, NotFoundError } from './errors.js';

/** Reads one output of a CloudFormation stack. */
export async function stackOutput(
  cloudFormation: CloudFormationClient,
  stackName: string,
  outputKey: string,
  /** How to do without the stack, for the not-found messages. @default - the topic's flag and variable */
  instead = 'give the topic with --topic-arn or IWOMPINAWS_TOPIC_ARN',
  /** What to do when the stack lacks the output. @default - nothing more is said */
  whenMissing?: string,
): Promise<string> {
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    // CloudFormation reports a missing stack as a ValidationError, like a malformed request.
    if (error instanceof Error && /does not exist/.test(error.message)) {
      throw new NotFoundError(
        `stack '${stackName}' does not exist: deploy it (./bin/deploy_infra.sh), or ${instead}`,
        { cause: error },
      );
    }
    throw new AwsServiceError(`cannot describe stack '${stackName}': ${awsErrorText(error)}`, {
      cause: error,
    });
  }
  const value = outputs.find((o) => o.OutputKey === outputKey)?.OutputValue;
  if (value === undefined || value === '') {
    throw new NotFoundError(
      `stack '${stackName}' has no output ${outputKey}${whenMissing === undefined ? '' : `: ${whenMissing}`}`,
    );
  }
  return value;
}
