/**
 * Lanes under load: 100 triggers for 10 projects, all handled at the same moment by 100 launcher
 * invocations (in one process, each with its own clients, as 100 Lambda instances would have)
 * against moto's DynamoDB, SSM and CodeBuild. Figures:
 * - builds started (goal 10: one per project, whatever the contention);
 * - triggers superseded (each project gets 10 triggers on 2 branches, supersede mode: 7 per
 *   project at most can be replaced, so about 70);
 * - triggers lost: no record, or a record that is neither final, started nor waiting in its lane
 *   (goal 0);
 * - time until every record has settled (every invocation returned).
 */
import { CodeBuildClient, ListBuildsForProjectCommand } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CodeBuildJobLauncher } from '../src/adapters/aws/codebuild-job-launcher.js';
import { DynamoDeployStore } from '../src/adapters/aws/dynamo-deploy-store.js';
import { SsmRegistry } from '../src/adapters/aws/ssm-registry.js';
import { isFinished } from '../src/core/job-record.js';
import { handleSnsEvent } from '../src/launcher/handle-sns-event.js';
import {
  createDeployTable,
  createWorkerProject,
  recordingLogger,
  register,
  snsEvent,
} from '../test/launcher/support.js';
import { startMoto } from '../test/support/moto.js';
import type { Figure } from './figures.js';

const PROJECTS = 10;
const PER_PROJECT = 10;
const WORKER = 'iwomp-worker';
const TABLE = 'iwomp-deploys';

export async function run(): Promise<Figure[]> {
  const moto = await startMoto();
  try {
    const codebuild = new CodeBuildClient(moto.clientConfig);
    const ssm = new SSMClient(moto.clientConfig);
    await createWorkerProject(codebuild, WORKER);
    await createDeployTable(new DynamoDBClient(moto.clientConfig), TABLE);
    const projects = Array.from({ length: PROJECTS }, (_, p) => `bench-${p}`);
    for (const project of projects) {
      await register(ssm, 'iwomp-in-aws', project, {
        gitUrl: `https://git.example.com/${project}.git`,
        command: './deploy.sh',
      });
    }
    const triggers = projects.flatMap((project) =>
      Array.from({ length: PER_PROJECT }, (_, i) => ({
        id: `${project}-t${i}`,
        project,
        branch: i % 2 === 0 ? 'main' : 'dev',
      })),
    );
    // One set of clients per invocation, as separate Lambda instances have.
    const invocation = () => {
      const config = moto.clientConfig;
      return {
        registry: new SsmRegistry({ configPath: 'iwomp-in-aws', ssm: new SSMClient(config) }),
        launcher: new CodeBuildJobLauncher({ projectName: WORKER, codebuild: new CodeBuildClient(config) }),
        store: new DynamoDeployStore({ tableName: TABLE, dynamodb: new DynamoDBClient(config) }),
        logger: recordingLogger(),
      };
    };

    const started = performance.now();
    const outcomes = await Promise.allSettled(
      triggers.map((t) =>
        handleSnsEvent(
          snsEvent({ messageId: t.id, message: JSON.stringify({ project: t.project, branch: t.branch }) }),
          invocation(),
        ),
      ),
    );
    const settledMs = performance.now() - started;

    const store = new DynamoDeployStore({
      tableName: TABLE,
      dynamodb: new DynamoDBClient(moto.clientConfig),
    });
    const builds =
      (await codebuild.send(new ListBuildsForProjectCommand({ projectName: WORKER }))).ids?.length ?? 0;
    const lanes = new Map(
      await Promise.all(projects.map(async (p) => [p, await store.readLane(p)] as const)),
    );
    let superseded = 0;
    let lost = 0;
    for (const t of triggers) {
      const record = await store.get(t.id);
      const lane = lanes.get(t.project);
      const inLane =
        lane?.lane.holder?.id === t.id || (lane?.lane.waiting.some((e) => e.id === t.id) ?? false);
      if (record?.state === 'superseded') superseded++;
      if (record === undefined || !(isFinished(record.state) || record.state === 'started' || inLane)) lost++;
    }
    const thrown = outcomes.filter((o) => o.status === 'rejected').length;
    return [
      {
        suite: 'lifecycle',
        name: `${triggers.length} triggers for ${PROJECTS} projects at once: builds started`,
        value: builds,
        unit: 'builds',
        goal: { atMost: PROJECTS, atLeast: PROJECTS },
        anchor: `one per project`,
      },
      {
        suite: 'lifecycle',
        name: 'same run: triggers superseded (2 branches, supersede mode)',
        value: superseded,
        unit: 'triggers',
        anchor: `${PROJECTS * (PER_PROJECT - 3)} when every project keeps a holder and one waiting per branch`,
      },
      {
        suite: 'lifecycle',
        name: 'same run: triggers lost (no record, or neither final, started nor in its lane)',
        value: lost,
        unit: 'triggers',
        goal: { atMost: 0 },
        anchor: `${thrown} invocation(s) threw (Lambda would retry them)`,
      },
      {
        suite: 'lifecycle',
        name: 'same run: time until every record settled',
        value: settledMs,
        unit: 'ms',
        how: '100 concurrent handleSnsEvent calls in one process; moto serializes DynamoDB calls',
      },
    ];
  } finally {
    await moto.stop();
  }
}
