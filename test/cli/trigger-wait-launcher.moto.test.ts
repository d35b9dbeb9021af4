/**
 * `iwomp trigger --wait` end to end with the real launcher: the CLI publishes to SNS (moto), the
 * test hands the delivered message to the launcher's handler as Lambda would, and plays CodeBuild
 * by sending its documented state-change events. The CLI's exit code is the deploy's outcome.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import type { DeployRecord } from '../../src/core/deploy-record.js';
import { handleBuildEvent } from '../../src/launcher/handle-build-event.js';
import { handleSnsEvent } from '../../src/launcher/handle-sns-event.js';
import {
  buildStateChange,
  type LifecycleWorld,
  lifecycleWorld,
  trigger,
} from '../launcher/lifecycle-support.js';
import { snsEvent } from '../launcher/support.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createTopicWithQueue, type TopicQueue } from '../support/sns-queue.js';

const TABLE = 'iwomp-deploys-e2e';

let moto: Moto;
let world: LifecycleWorld;
let topic: TopicQueue;
let clients: { sns: SNSClient; cloudFormation: CloudFormationClient; dynamodb: LifecycleWorld['dynamodb'] };

beforeAll(async () => {
  moto = await startMoto();
  world = await lifecycleWorld(moto, TABLE);
  topic = await createTopicWithQueue(moto, 'iwomp-jobs-e2e');
  clients = {
    sns: new SNSClient(moto.clientConfig),
    cloudFormation: new CloudFormationClient(moto.clientConfig),
    dynamodb: world.dynamodb,
  };
});

afterAll(async () => {
  await moto?.stop();
});

/** `trigger <project> main --wait` going on, and the message the launcher gets for it. */
async function triggerAndWait(project: string) {
  let stdout = '';
  let stderr = '';
  const done = runCli(
    ['trigger', project, 'main', '--no-commit', '--wait', '--topic-arn', topic.topicArn, '--table', TABLE],
    {
      env: {},
      clients,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    },
  );
  const delivered = await topic.next(5);
  if (delivered === undefined) throw new Error(`nothing published: ${stderr}`);
  return { done, delivered, stdout: () => stdout, stderr: () => stderr };
}

/** The project's own worker project and registry entry, and the launcher's deps for it. */
async function project(name: string) {
  const worker = await world.newWorker(`w-${name}`);
  await world.registerProject(name);
  return { ...world.deps(worker), workerProject: worker };
}

const envOf = (record: DeployRecord) => ({
  PROJECTNAME: record.project,
  GITBRANCH: record.branch,
  IWOMP_TRIGGER_ID: record.id,
});

describe('trigger --wait with the launcher and CodeBuild state-change events (moto)', () => {
  it('exits 0 once the launcher closes a succeeded build', async () => {
    // GIVEN a registered project, and a CLI waiting on its trigger
    const deps = await project('e2e-ok');
    const cli = await triggerAndWait('e2e-ok');
    // WHEN Lambda runs the launcher on the message, and CodeBuild reports the build running, then done
    await handleSnsEvent(snsEvent(cli.delivered), deps);
    const record = (await world.store.get(cli.delivered.messageId)) as DeployRecord;
    const buildId = record.buildId as string;
    await handleBuildEvent(buildStateChange(buildId, 'IN_PROGRESS', envOf(record)), deps);
    await handleBuildEvent(buildStateChange(buildId, 'SUCCEEDED', envOf(record)), deps);
    // THEN
    expect(await cli.done).toBe(CliExitCode.ok);
    expect(cli.stderr()).toMatch(/^» e2e-ok main · succeeded \(exit 0\) · \d+\.\ds$/m);
  });

  it('exits 7 with the reason when the build fails before the worker reported', async () => {
    // GIVEN
    const deps = await project('e2e-fail');
    const cli = await triggerAndWait('e2e-fail');
    await handleSnsEvent(snsEvent(cli.delivered), deps);
    const record = (await world.store.get(cli.delivered.messageId)) as DeployRecord;
    // WHEN
    await handleBuildEvent(buildStateChange(record.buildId as string, 'FAILED', envOf(record)), deps);
    // THEN
    expect(await cli.done).toBe(CliExitCode.failed);
    expect(cli.stderr()).toContain(
      `iwomp: deploy ${record.id} failed: the build failed before the worker reported an outcome`,
    );
  });

  it('exits 6 with the launcher’s reason for a project it does not know', async () => {
    // GIVEN a project nobody registered
    const deps = await project('e2e-known');
    const cli = await triggerAndWait('e2e-unknown');
    // WHEN
    await handleSnsEvent(snsEvent(cli.delivered), deps);
    // THEN
    expect(await cli.done).toBe(CliExitCode.rejected);
    expect(cli.stderr()).toMatch(
      new RegExp(
        `^iwomp: deploy ${cli.delivered.messageId} rejected: project 'e2e-unknown' is not registered`,
        'm',
      ),
    );
  });

  it('exits 8 when a newer trigger of the branch supersedes it while it waits', async () => {
    // GIVEN a build running for the project, and the CLI's trigger waiting behind it
    const deps = await project('e2e-super');
    await handleSnsEvent(snsEvent({ messageId: 'e2e-holder', message: trigger('e2e-super') }), deps);
    const cli = await triggerAndWait('e2e-super');
    await handleSnsEvent(snsEvent(cli.delivered), deps);
    // WHEN a newer trigger of main arrives
    await handleSnsEvent(snsEvent({ messageId: 'e2e-newer', message: trigger('e2e-super') }), deps);
    // THEN
    expect(await cli.done).toBe(CliExitCode.superseded);
    expect(cli.stderr()).toContain(
      `iwomp: deploy ${cli.delivered.messageId} superseded: superseded by e2e-newer, a newer trigger of the same branch\n`,
    );
  });
});
