import { Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addIwompStacks, type IwompAppOptions } from '../../src/infra/stacks.js';
import { acknowledgements, testApp } from './helpers.js';

const variants: Array<[string, IwompAppOptions]> = [
  ['managed image', { demo: true }],
  ['Lambda image', { workerImage: 'lambda', demo: true }],
  [
    'ECR image and a GitHub Actions role',
    { workerImage: 'ecr', githubRepositories: ['acme/app'], demo: true },
  ],
  [
    'GitHub Actions role limited to its projects',
    { githubRepositories: ['acme/app'], githubProjects: ['app'] },
  ],
];

function findings(app: ReturnType<typeof testApp>, stack: Stack): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} ${r.templatePath ?? stack.stackName}: ${v.description}`),
  );
}

describe('cdk-nag AwsSolutionsChecks', () => {
  for (const [name, options] of variants) {
    it(`finds nothing unacknowledged in any stack with the ${name}`, () => {
      // GIVEN every iwomp stack built with these options
      const app = testApp();
      const stacks = addIwompStacks(app, options);
      // WHEN / THEN cdk-nag finds nothing unacknowledged in any of them
      for (const stack of Object.values(stacks)) expect(findings(app, stack), stack.stackName).toEqual([]);
    });
  }

  it('reports findings when there are some (the check is live)', () => {
    // GIVEN a stack with an unencrypted SQS queue
    const app = testApp();
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    // WHEN / THEN cdk-nag reports AwsSolutions-SQS4
    expect(findings(app, stack).join('\n')).toMatch(/AwsSolutions-SQS4/);
  });

  it('gives every acknowledgement a specific rule and a written reason', () => {
    // GIVEN the stacks with an ECR image, a GitHub Actions role and the demo
    const app = testApp();
    addIwompStacks(app, variants[2]?.[1]);
    // WHEN their acknowledgements are collected
    const acks = acknowledgements(app);
    // THEN they are exactly the expected rules on the expected resources
    const ssm = 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/iwomp-in-aws/*';
    const kms = 'arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*';
    expect(acks.map((a) => `${a.path} ${a.id.replace(/^Annotation::/, '')}`).sort()).toEqual(
      [
        'iwomp/Pipeline/FailureQueue AwsSolutions-SQS3',
        `iwomp/Pipeline/WorkerRole AwsSolutions-IAM5[Resource::${ssm}]`,
        `iwomp/Pipeline/WorkerRole AwsSolutions-IAM5[Resource::${kms}]`,
        'iwomp/Pipeline/WorkerRole AwsSolutions-IAM5[Resource::*]',
        'iwomp/Pipeline/Worker AwsSolutions-CB4',
        'iwomp/Pipeline/Worker AwsSolutions-CB5',
        `iwomp/Pipeline/LauncherRole AwsSolutions-IAM5[Resource::${ssm}]`,
        `iwomp/Pipeline/LauncherRole AwsSolutions-IAM5[Resource::${kms}]`,
        'iwomp/Pipeline/NotifierRole AwsSolutions-IAM5[Resource::*]',
        'iwomp/Pipeline/WorkerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/iwomp-deploy/*]',
        'iwomp-policies/DemoDeployRole/Role AwsSolutions-IAM5[Action::cloudformation:*]',
        'iwomp-policies/DemoDeployRole/Role AwsSolutions-IAM5[Action::sqs:*]',
        'iwomp-policies/DemoDeployRole/Role AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
    // AND each has a written reason longer than 60 characters
    for (const ack of acks) expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(60);
  });
});
