import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CodeBuildJobLauncher } from '../../src/adapters/aws/codebuild-job-launcher.js';
import { DynamoDeployStore } from '../../src/adapters/aws/dynamo-deploy-store.js';
import { SsmRegistry } from '../../src/adapters/aws/ssm-registry.js';
import type { SnsHandlerDeps } from '../../src/launcher/handle-sns-event.js';
import type { Moto } from '../support/moto.js';
import { createDeployTable, createWorkerProject, recordingLogger, register } from './support.js';

export const CONFIG_PATH = 'iwomp-in-aws';

/** moto clients and a deploy table (results are the notifier's: test/notifier). */
export interface LifecycleWorld {
  readonly moto: Moto;
  readonly ssm: SSMClient;
  readonly codebuild: CodeBuildClient;
  readonly dynamodb: DynamoDBClient;
  readonly store: DynamoDeployStore;
  /** Launcher deps against a worker project of its own (so its builds can be counted alone). */
  deps(
    worker: string,
    logger?: ReturnType<typeof recordingLogger>,
  ): SnsHandlerDeps & {
    store: DynamoDeployStore;
    logger: ReturnType<typeof recordingLogger>;
    launcher: CodeBuildJobLauncher;
  };
  /** Registers a project (its gitUrl and command are never used: no worker runs). */
  registerProject(project: string, extra?: Record<string, unknown>): Promise<void>;
  newWorker(name: string): Promise<string>;
}

export async function lifecycleWorld(moto: Moto, table: string): Promise<LifecycleWorld> {
  const ssm = new SSMClient(moto.clientConfig);
  const codebuild = new CodeBuildClient(moto.clientConfig);
  const dynamodb = new DynamoDBClient(moto.clientConfig);
  await createDeployTable(dynamodb, table);
  const store = new DynamoDeployStore({ tableName: table, dynamodb });
  return {
    moto,
    ssm,
    codebuild,
    dynamodb,
    store,
    deps(worker, logger = recordingLogger()) {
      return {
        registry: new SsmRegistry({ configPath: CONFIG_PATH, ssm }),
        launcher: new CodeBuildJobLauncher({ projectName: worker, codebuild }),
        logger,
        store,
      };
    },
    async registerProject(project, extra = {}) {
      await register(ssm, CONFIG_PATH, project, {
        gitUrl: `https://git.example.com/${project}.git`,
        command: './deploy.sh',
        ...extra,
      });
    },
    async newWorker(name) {
      await createWorkerProject(codebuild, name);
      return name;
    },
  };
}

/** A trigger message as CI publishes it. */
export const trigger = (project: string, branch = 'main', commit?: string): string =>
  JSON.stringify({ project, branch, ...(commit === undefined ? {} : { commit }) });

/**
 * A "CodeBuild Build State Change" event in the shape AWS documents (the sample of the CodeBuild
 * user guide, fixtures/build-state-change.json), for one build with the given variables.
 */
export function buildStateChange(
  buildId: string,
  status: string,
  env: Record<string, string>,
): Record<string, unknown> {
  const event = JSON.parse(
    readFileSync(join(import.meta.dirname, 'fixtures/build-state-change.json'), 'utf8'),
    // biome-ignore lint/suspicious/noExplicitAny: a fixture filled in place, field by field, as AWS shapes it
  ) as Record<string, any>;
  const [project, uuid] = buildId.split(':');
  const arn = `arn:aws:codebuild:us-east-1:123456789012:build/${buildId}`;
  event.resources = [arn];
  event.detail['build-status'] = status;
  event.detail['project-name'] = project;
  event.detail['build-id'] = arn;
  event.detail['current-phase'] = status === 'IN_PROGRESS' ? 'PROVISIONING' : 'COMPLETED';
  const info = event.detail['additional-information'];
  info['build-complete'] = status !== 'IN_PROGRESS';
  info.environment['environment-variables'] = Object.entries(env).map(([name, value]) => ({
    name,
    type: 'PLAINTEXT',
    value,
  }));
  info.logs['group-name'] = `/aws/codebuild/${project}`;
  info.logs['stream-name'] = uuid;
  info.logs['deep-link'] =
    `https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/${project};stream=${uuid}`;
  return event;
}
