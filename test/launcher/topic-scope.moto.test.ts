import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeBuildJobLauncher } from '../../src/adapters/aws/codebuild-job-launcher.js';
import { SsmRegistry } from '../../src/adapters/aws/ssm-registry.js';
import { parseLauncherEnv } from '../../src/launcher/env.js';
import { handleSnsEvent, type SnsHandlerDeps } from '../../src/launcher/handle-sns-event.js';
import { type Moto, startMoto } from '../support/moto.js';
import { createWorkerProject, recordingLogger, register, snsEvent, startBuildRequests } from './support.js';

const CONFIG_PATH = 'iwomp-in-aws';
const WORKER = 'iwomp-worker';
const MAIN_TOPIC = 'arn:aws:sns:us-east-1:123456789012:iwomp-jobs';
const WEB_TOPIC = 'arn:aws:sns:us-east-1:123456789012:iwomp-web-jobs';

let moto: Moto;
let ssm: SSMClient;
let codebuild: CodeBuildClient;

/** The launcher as its entry builds it, from the environment the construct gives it. */
function deps(logger = recordingLogger()): SnsHandlerDeps & { logger: typeof logger } {
  const env = parseLauncherEnv({
    WORKER_PROJECT_NAME: WORKER,
    // Required since issue 11; these tests are about the topic scopes, before any record.
    IWOMP_DEPLOY_TABLE: 'iwomp-deploys',
    IWOMP_TOPIC_PROJECTS: JSON.stringify([{ topicArn: WEB_TOPIC, projects: ['web'] }]),
  });
  return {
    registry: new SsmRegistry({ configPath: env.configPath, ssm }),
    launcher: new CodeBuildJobLauncher({ projectName: env.workerProject, codebuild }),
    ...(env.topicScopes === undefined ? {} : { topicScopes: env.topicScopes }),
    logger,
  };
}

/** One SNS record as SNS delivers it from `topicArn`: the topic is SNS's word, not the publisher's. */
function fromTopic(topicArn: string, messageId: string, body: Record<string, unknown>) {
  const event = snsEvent({ messageId, message: JSON.stringify(body) });
  for (const record of event.Records as Array<{ Sns: { TopicArn: string } }>) record.Sns.TopicArn = topicArn;
  return event;
}

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  codebuild = new CodeBuildClient(moto.clientConfig);
  await createWorkerProject(codebuild, WORKER);
  for (const project of ['web', 'billing']) {
    await register(ssm, CONFIG_PATH, project, {
      gitUrl: `https://git.example.com/${project}.git`,
      command: './deploy.sh',
    });
  }
});

afterAll(async () => {
  await moto?.stop();
});

describe('launcher with a trigger topic scoped to one project', () => {
  it('rejects another project arriving through the scoped topic, in one line, and starts no build', async () => {
    // GIVEN a topic that may trigger only `web`, and `billing` registered
    await moto.startRecording();
    const logger = recordingLogger();

    // WHEN a trigger for `billing` comes through it
    const summary = await handleSnsEvent(
      fromTopic(WEB_TOPIC, 'c0ffee00-0000-4000-8000-0000000000a1', { project: 'billing', branch: 'main' }),
      deps(logger),
    );

    // THEN it is rejected, says why in one line, and no StartBuild reached CodeBuild
    expect(summary).toMatchObject({ accepted: 0, rejected: 1, failed: 0 });
    expect(await startBuildRequests(moto)).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'trigger rejected',
        attributes: {
          outcome: 'rejected',
          messageId: 'c0ffee00-0000-4000-8000-0000000000a1',
          project: 'billing',
          branch: 'main',
          reason: `project "billing" cannot be triggered through topic ${WEB_TOPIC}: it may trigger only web`,
        },
      },
    ]);
  });

  it('starts one build for its own project through the scoped topic', async () => {
    // GIVEN the same topic
    await moto.startRecording();

    // WHEN a trigger for `web` comes through it
    const summary = await handleSnsEvent(
      fromTopic(WEB_TOPIC, 'c0ffee00-0000-4000-8000-0000000000a2', { project: 'web', branch: 'main' }),
      deps(),
    );

    // THEN exactly one build starts, for `web`
    expect(summary).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
    const requests = await startBuildRequests(moto);
    expect(requests.map((r) => r.environmentVariablesOverride)).toEqual([
      [
        { name: 'PROJECTNAME', value: 'web', type: 'PLAINTEXT' },
        { name: 'GITBRANCH', value: 'main', type: 'PLAINTEXT' },
      ],
    ]);
  });

  it('still starts any project through the main topic, which has no scope', async () => {
    await moto.startRecording();

    const summary = await handleSnsEvent(
      fromTopic(MAIN_TOPIC, 'c0ffee00-0000-4000-8000-0000000000a3', { project: 'billing', branch: 'main' }),
      deps(),
    );

    expect(summary).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
    expect(await startBuildRequests(moto)).toHaveLength(1);
  });

  it('rejects a record that names no topic, since its scope cannot be known', async () => {
    await moto.startRecording();
    const event = fromTopic(WEB_TOPIC, 'c0ffee00-0000-4000-8000-0000000000a4', {
      project: 'web',
      branch: 'main',
    });
    for (const record of event.Records as Array<{ Sns: Record<string, unknown> }>) delete record.Sns.TopicArn;

    const summary = await handleSnsEvent(event, deps());

    expect(summary.records.map((r) => (r.outcome === 'rejected' ? r.reason : r.outcome))).toEqual([
      'record has no Sns.TopicArn, so its project scope is unknown',
    ]);
    expect(await startBuildRequests(moto)).toEqual([]);
  });
});
