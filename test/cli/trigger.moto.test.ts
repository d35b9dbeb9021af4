import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCliInProcess, runCliProcess } from '../support/cli.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createRepo } from '../support/repos.js';
import { createStackWithOutputs, createTopicWithQueue, type TopicQueue } from '../support/sns-queue.js';

const SHA = 'a'.repeat(40);
const OTHER_SHA = 'b'.repeat(40);

let moto: Moto;
let topic: TopicQueue;
let clients: { sns: SNSClient; cloudFormation: CloudFormationClient; ssm: SSMClient };
let ssm: SSMClient;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  clients = {
    sns: new SNSClient(moto.clientConfig),
    cloudFormation: new CloudFormationClient(moto.clientConfig),
    ssm,
  };
  topic = await createTopicWithQueue(moto, 'iwomp-jobs');
  dir = mkdtempSync(join(tmpdir(), 'iwomp-cli-trigger-'));
});

afterAll(async () => {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // Each test starts with an empty queue: a leftover delivery would be read as the next one's.
  while (await topic.next(0)) {}
});

/**
 * Nothing was published since the last read: a marker published now is the next delivery.
 * (moto delivers SNS to SQS synchronously, so no waiting for a delivery that might still come.)
 */
async function expectNothingPublished(): Promise<void> {
  await clients.sns.send(new PublishCommand({ TopicArn: topic.topicArn, Message: 'marker' }));
  expect((await topic.next())?.message).toBe('marker');
}

function trigger(argv: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  return runCliInProcess(['trigger', ...argv], { env: options.env ?? {}, cwd: options.cwd ?? dir, clients });
}

describe('trigger against SNS (moto)', () => {
  it('publishes exactly the validated message, and prints the SNS message id', async () => {
    const run = await trigger(['demo', 'main', '--commit', SHA, '--topic-arn', topic.topicArn, '--json']);

    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout);
    const delivered = await topic.next();
    expect(delivered?.message).toBe(`{"project":"demo","branch":"main","commit":"${SHA}"}`);
    expect(printed).toEqual({
      backend: 'aws',
      topicArn: topic.topicArn,
      messageId: delivered?.messageId,
      message: { project: 'demo', branch: 'main', commit: SHA },
      commitFrom: '--commit',
    });
  });

  it('prints the message and its id for a human', async () => {
    const run = await trigger(['demo', 'main', '--no-commit', '--topic-arn', topic.topicArn]);
    const delivered = await topic.next();
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `published {"project":"demo","branch":"main"} to ${topic.topicArn}\nmessage id: ${delivered?.messageId}\n`,
    );
  });

  it('takes the topic from IWOMPINAWS_TOPIC_ARN', async () => {
    const run = await trigger(['demo', 'release/2.0', '--no-commit'], {
      env: { IWOMPINAWS_TOPIC_ARN: topic.topicArn },
    });
    expect(run.code).toBe(0);
    expect((await topic.next())?.message).toBe('{"project":"demo","branch":"release/2.0"}');
  });

  it('takes the topic from the JobTopicArn output of the stack, iwomp by default', async () => {
    await createStackWithOutputs(moto, 'iwomp', { JobTopicArn: topic.topicArn, Other: 'x' });
    await createStackWithOutputs(moto, 'iwomp-staging', { JobTopicArn: topic.topicArn });

    const byDefault = await trigger(['demo', 'main', '--no-commit']);
    expect(byDefault.code).toBe(0);
    expect((await topic.next())?.message).toBe('{"project":"demo","branch":"main"}');

    const named = await trigger(['demo', 'dev', '--no-commit', '--stack-name', 'iwomp-staging']);
    expect(named.code).toBe(0);
    expect((await topic.next())?.message).toBe('{"project":"demo","branch":"dev"}');
  });

  it('says what to do when the stack or its output is missing', async () => {
    await createStackWithOutputs(moto, 'iwomp-no-output', { SomethingElse: 'x' });
    const noStack = await trigger(['demo', 'main', '--stack-name', 'absent']);
    expect(noStack.code).toBe(CliExitCode.notFound);
    expect(noStack.stderr).toBe(
      "iwomp: stack 'absent' does not exist: deploy it (./bin/deploy_infra.sh), or give the topic with --topic-arn or IWOMPINAWS_TOPIC_ARN\n",
    );
    const noOutput = await trigger(['demo', 'main', '--stack-name', 'iwomp-no-output']);
    expect(noOutput.code).toBe(CliExitCode.notFound);
    expect(noOutput.stderr).toBe("iwomp: stack 'iwomp-no-output' has no output JobTopicArn\n");
  });

  describe('a message the launcher would refuse is never published', () => {
    it.each([
      { argv: ['demo', 'a..b'], error: /invalid branch name "a\.\.b": it contains '\.\.'/ },
      { argv: ['demo', 'main', '--commit', 'HEAD'], error: /invalid commit "HEAD"/ },
      { argv: ['demo', 'main', '--commit', SHA.toUpperCase()], error: /invalid commit/ },
      { argv: ['_default', 'main'], error: /invalid project name "_default"/ },
      { argv: ['../x', 'main'], error: /invalid project name/ },
      { argv: ['demo', 'we"ird\\branch'], error: /invalid branch name/ },
    ])('$argv', async ({ argv, error }) => {
      const run = await trigger([...argv, '--topic-arn', topic.topicArn]);
      expect(run.code).toBe(CliExitCode.invalidInput);
      expect(run.stderr).toMatch(error);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      await expectNothingPublished();
    });
  });

  it('refuses a malformed topic ARN, and --wait where no deploy table is known', async () => {
    const badArn = await trigger(['demo', 'main', '--topic-arn', 'iwomp-jobs']);
    expect(badArn.code).toBe(CliExitCode.usage);
    expect(badArn.stderr).toMatch(/--topic-arn: "iwomp-jobs" is not an SNS topic ARN/);
    const badEnv = await trigger(['demo', 'main'], { env: { IWOMPINAWS_TOPIC_ARN: 'nope' } });
    expect(badEnv.code).toBe(CliExitCode.invalidInput);
    expect(badEnv.stderr).toMatch(/^iwomp: IWOMPINAWS_TOPIC_ARN: "nope" is not an SNS topic ARN/);
    // --wait reads the deploy table: none given, none in the stack (test/cli/trigger-wait.moto.test.ts has one).
    const wait = await trigger(['demo', 'main', '--wait', '--topic-arn', topic.topicArn]);
    expect(wait.code).toBe(CliExitCode.notFound);
    expect(wait.stderr).toMatch(
      /^iwomp: stack 'iwomp' (has no output DeployTableName|does not exist: .*--table or IWOMPINAWS_DEPLOY_TABLE)/,
    );
    await expectNothingPublished();
  });

  describe('branch and commit defaults', () => {
    const github = { GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/demo' };

    it("takes CI's branch and commit (GitHub Actions)", async () => {
      await trigger(['demo', '--topic-arn', topic.topicArn], { env: github });
      expect((await topic.next())?.message).toBe(`{"project":"demo","branch":"main","commit":"${SHA}"}`);
    });

    it("attaches CI's commit to the branch CI builds only", async () => {
      await trigger(['demo', 'other', '--topic-arn', topic.topicArn], { env: github });
      expect((await topic.next())?.message).toBe('{"project":"demo","branch":"other"}');
      // A pull-request build's commit is a merge commit on no branch: never attached.
      await trigger(['demo', 'main', '--topic-arn', topic.topicArn], {
        env: { GITHUB_SHA: SHA, GITHUB_REF: 'refs/pull/7/merge' },
      });
      expect((await topic.next())?.message).toBe('{"project":"demo","branch":"main"}');
    });

    it('GitLab, CircleCI and Travis variables work the same way', async () => {
      const systems: Record<string, string>[] = [
        { CI_COMMIT_SHA: SHA, CI_COMMIT_BRANCH: 'main', CI_PROJECT_URL: 'https://gitlab.com/acme/demo' },
        { CIRCLE_SHA1: SHA, CIRCLE_BRANCH: 'main', CIRCLE_REPOSITORY_URL: 'git@github.com:acme/demo.git' },
        {
          TRAVIS_COMMIT: SHA,
          TRAVIS_BRANCH: 'main',
          TRAVIS_PULL_REQUEST: 'false',
          TRAVIS_REPO_SLUG: 'acme/demo',
        },
      ];
      for (const env of systems) {
        await trigger(['demo', '--topic-arn', topic.topicArn], { env });
        expect((await topic.next())?.message).toBe(`{"project":"demo","branch":"main","commit":"${SHA}"}`);
      }
    });

    it('--commit and --no-commit override CI', async () => {
      await trigger(['demo', '--commit', OTHER_SHA, '--topic-arn', topic.topicArn], { env: github });
      expect((await topic.next())?.message).toBe(
        `{"project":"demo","branch":"main","commit":"${OTHER_SHA}"}`,
      );
      await trigger(['demo', '--no-commit', '--topic-arn', topic.topicArn], { env: github });
      expect((await topic.next())?.message).toBe('{"project":"demo","branch":"main"}');
    });

    it('GIT_BRANCH (the seed variable) names the branch', async () => {
      await trigger(['demo', '--topic-arn', topic.topicArn], { env: { GIT_BRANCH: 'feature/x' } });
      expect((await topic.next())?.message).toBe('{"project":"demo","branch":"feature/x"}');
    });

    it("outside CI, takes the git checkout's branch and HEAD", async () => {
      const repo = createRepo(dir, 'checkout');
      const head = repo.commit('feature/login', { 'a.txt': 'a' });
      // The checkout is of the project's registered repository (test/cli/commit-source.test.ts
      // covers the other cases).
      await ssm.send(
        new PutParameterCommand({
          Name: '/iwomp-in-aws/demo',
          Type: 'String',
          Overwrite: true,
          Value: JSON.stringify({ gitUrl: 'https://github.com/acme/demo.git', command: './deploy.sh' }),
        }),
      );
      execFileSync('git', ['remote', 'set-url', 'origin', 'https://github.com/acme/demo.git'], {
        cwd: repo.work,
      });
      await trigger(['demo', '--topic-arn', topic.topicArn], { cwd: repo.work });
      expect((await topic.next())?.message).toBe(
        `{"project":"demo","branch":"feature/login","commit":"${head}"}`,
      );
      // Another branch named on the command line gets no commit from this checkout.
      await trigger(['demo', 'main', '--topic-arn', topic.topicArn], { cwd: repo.work });
      expect((await topic.next())?.message).toBe('{"project":"demo","branch":"main"}');
    });

    it('in AWS, a checkout whose project cannot be read gets no commit, and the reason', async () => {
      // GIVEN a checkout, and a project the registry does not hold
      const repo = createRepo(dir, 'unregistered');
      repo.commit('main', { 'a.txt': 'a' });
      // WHEN
      const run = await trigger(['ghost', '--topic-arn', topic.topicArn], { cwd: repo.work });
      // THEN
      expect(run.stderr).toMatch(
        /^no commit attached: cannot read ghost's gitUrl to check that the git checkout at .* is of its repository \(.*ghost.*\); pass --commit to attach one; the worker deploys the head of main\n$/,
      );
      expect((await topic.next())?.message).toBe('{"project":"ghost","branch":"main"}');
    });

    it('in AWS, CI’s commit is attached on its repository variable alone (CI may only publish), and said', async () => {
      const run = await trigger(['demo', '--topic-arn', topic.topicArn], { env: github });
      expect(run.stderr).toBe(
        `commit ${SHA} from GitHub Actions (GITHUB_SHA): it builds https://github.com/acme/demo (GITHUB_REPOSITORY)\n`,
      );
      expect((await topic.next())?.message).toBe(`{"project":"demo","branch":"main","commit":"${SHA}"}`);
      // Without the variable naming its repository, CI's commit is not attached.
      const { GITHUB_REPOSITORY: _, ...anonymous } = github;
      await trigger(['demo', '--topic-arn', topic.topicArn], { env: anonymous });
      expect((await topic.next())?.message).toBe('{"project":"demo","branch":"main"}');
    });

    it('refuses a malformed CI commit, naming the variable', async () => {
      const run = await trigger(['demo', '--topic-arn', topic.topicArn], {
        env: { GITHUB_SHA: 'not-a-sha', GITHUB_REF: 'refs/heads/main' },
      });
      expect(run.code).toBe(CliExitCode.invalidInput);
      expect(run.stderr).toMatch(/^iwomp: GITHUB_SHA: invalid commit "not-a-sha"/);
    });

    it('with no branch anywhere, asks for one', async () => {
      const run = await trigger(['demo', '--topic-arn', topic.topicArn]);
      expect(run.code).toBe(CliExitCode.usage);
      expect(run.stderr).toMatch(/no branch given/);
    });
  });

  it('IWOMP_BACKEND=local decides locally and never publishes, even with a topic in the environment', async () => {
    const run = await trigger(['demo', 'main', '--no-commit'], {
      env: { IWOMP_BACKEND: 'local', IWOMPINAWS_TOPIC_ARN: topic.topicArn },
    });
    // 'demo' is not in this directory's local registry: the local launcher logic rejects it.
    expect(run.code).toBe(CliExitCode.rejected);
    expect(run.stderr).toMatch(/^iwomp: rejected: project 'demo' is not registered/);
    await expectNothingPublished();
  });

  it('the built CLI publishes through AWS_ENDPOINT_URL, in the region of the topic ARN', async () => {
    const run = await runCliProcess(['trigger', 'demo', 'main', '--no-commit', '--json'], {
      env: {
        ...moto.env,
        AWS_REGION: 'eu-north-1',
        AWS_DEFAULT_REGION: 'eu-north-1',
        IWOMPINAWS_TOPIC_ARN: topic.topicArn,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      cwd: dir,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const delivered = await topic.next();
    expect(delivered?.message).toBe('{"project":"demo","branch":"main"}');
    expect(JSON.parse(run.stdout).messageId).toBe(delivered?.messageId);
  });
});
