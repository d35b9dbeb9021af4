import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from '../support/moto.js';
import { type ProcessRun, runProcess } from '../support/process.js';
import { createStackWithOutputs, createTopicWithQueue, type TopicQueue } from '../support/sns-queue.js';

const SCRIPT = resolve(import.meta.dirname, '../../bin/trigger_job.sh');
const SHA = 'c'.repeat(40);

let moto: Moto;
let topic: TopicQueue;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  topic = await createTopicWithQueue(moto, 'iwomp-script-jobs');
  // Not a git repository: the script must not pick a branch or commit from the test's checkout.
  dir = mkdtempSync(join(tmpdir(), 'iwomp-trigger-script-'));
});

afterAll(async () => {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  while (await topic.next(0)) {}
});

/** Runs the script with the machine's `aws` CLI, pointed at moto, with only the given variables. */
function runScript(args: string[], env: Record<string, string> = {}): Promise<ProcessRun> {
  return runProcess('bash', [SCRIPT, ...args], {
    cwd: dir,
    env: { ...moto.env, IWOMPINAWS_TOPIC_ARN: topic.topicArn, ...env },
  });
}

/** The next delivered message, parsed: it must be valid JSON. */
async function delivered(): Promise<{ messageId: string; body: unknown }> {
  const next = await topic.next();
  if (!next) throw new Error('nothing was published');
  return { messageId: next.messageId, body: JSON.parse(next.message) };
}

describe('bin/trigger_job.sh with the AWS CLI against moto', () => {
  it("publishes the seed README's invocation and prints the message id", async () => {
    // GIVEN the topic ARN in the environment (runScript)
    // WHEN the script runs with the seed README's arguments
    const run = await runScript(['demo', 'master']);
    // THEN it succeeds quietly and prints the id of the message it published
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const message = await delivered();
    expect(message.body).toEqual({ project: 'demo', branch: 'master' });
    expect(run.stdout.trim()).toBe(message.messageId);
  });

  it.each([
    ['quotes', 'we"ird"branch'],
    ['backslashes', 'back\\slash\\\\double'],
    ['quotes and backslashes together', '\\"};{"project":"evil","branch":"x'],
    ['a JSON injection attempt', 'main","project":"other'],
    ['control characters', 'tab\there\nnewline\u0001\u001f\u007f'],
    ['every control character', Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')],
    ['non-ASCII text', 'fix/übersetzung-漢字-🙂'],
    ['shell syntax', '$(touch pwned)`id`;$HOME'],
  ])('carries a branch with %s exactly, as valid JSON', async (_name, branch) => {
    // GIVEN a branch name from the table
    // WHEN the script publishes it
    const run = await runScript(['demo', branch]);
    // THEN the message is valid JSON carrying the branch unchanged
    expect(run.code).toBe(0);
    expect((await delivered()).body).toEqual({ project: 'demo', branch });
  });

  it('takes IWOMPINAWS_PROJECT and GIT_BRANCH, and the topic from the stack iwomp', async () => {
    // GIVEN a stack iwomp whose JobTopicArn output is the topic
    await createStackWithOutputs(moto, 'iwomp', { JobTopicArn: topic.topicArn });
    // WHEN the script runs with the project and branch from the environment, and no topic ARN
    const run = await runScript([], {
      IWOMPINAWS_PROJECT: 'demo',
      GIT_BRANCH: 'main',
      IWOMPINAWS_TOPIC_ARN: '',
    });
    // THEN it publishes to the stack's topic
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((await delivered()).body).toEqual({ project: 'demo', branch: 'main' });
  });

  it("sends CI's commit with the branch CI builds, and only with that one", async () => {
    // GIVEN GitHub's commit and ref variables
    const github = { GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main' };
    // WHEN the script runs for the branch CI builds
    await runScript(['demo'], github);
    // THEN the commit is sent
    expect((await delivered()).body).toEqual({ project: 'demo', branch: 'main', commit: SHA });
    // AND it is not sent for another branch
    await runScript(['demo', 'other'], github);
    expect((await delivered()).body).toEqual({ project: 'demo', branch: 'other' });
    // AND it is not sent when IWOMPINAWS_COMMIT is none
    await runScript(['demo'], { ...github, IWOMPINAWS_COMMIT: 'none' });
    expect((await delivered()).body).toEqual({ project: 'demo', branch: 'main' });
    // AND IWOMPINAWS_COMMIT is sent with an explicit branch
    await runScript(['demo', 'main'], { IWOMPINAWS_COMMIT: SHA });
    expect((await delivered()).body).toEqual({ project: 'demo', branch: 'main', commit: SHA });
  });

  it('fails with one line when the project, branch or topic is missing', async () => {
    // GIVEN the topic ARN, but no project
    // WHEN the script runs
    const noProject = await runScript([]);
    // THEN it fails with one line saying how to give the project
    expect(noProject.code).toBe(1);
    expect(noProject.stderr).toBe(
      'trigger_job.sh: no project: pass it as the first argument or set IWOMPINAWS_PROJECT\n',
    );
    // AND without a branch, it fails with one line saying how to give it
    const noBranch = await runScript(['demo']);
    expect(noBranch.code).toBe(1);
    expect(noBranch.stderr).toBe(
      'trigger_job.sh: no branch: pass it as the second argument or set GIT_BRANCH\n',
    );
    // AND with a topic that is not an ARN, it fails saying so
    const badTopic = await runScript(['demo', 'main'], { IWOMPINAWS_TOPIC_ARN: 'not-an-arn' });
    expect(badTopic.code).toBe(1);
    expect(badTopic.stderr).toMatch(/not an SNS topic ARN/);
  });
});
