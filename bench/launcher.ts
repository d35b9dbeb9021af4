/**
 * Launcher Lambda, three figures:
 * - the size of dist/launcher.js (goal ≤ 400 KB);
 * - its cold load: a fresh `node` importing the bundle (which reads its environment and builds its
 *   clients and logger, as a Lambda init does), minus an empty `node` (goal ≤ 40 ms);
 * - its own cost for one trigger: a fresh `node` that loads the handler and handles one SNS event
 *   against moto (two SSM reads, one StartBuild), minus an empty `node`, against the same for a
 *   seed-style handler on aws-sdk v2 written below (goal: ratio ≤ 0.5).
 * Every series runs interleaved with the others, so drift in machine load hits them alike.
 *
 * Wall time is the figure asked for; CPU time (user + system, all threads, from the child's own
 * process.cpuUsage) is given beside it because it moves far less when the machine is busy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createDeployTable, createWorkerProject, register } from '../test/launcher/support.js';
import { startMoto } from '../test/support/moto.js';
import type { Figure } from './figures.js';
import { median } from './stats.js';

const BUNDLE = resolve(import.meta.dirname, '../dist/launcher.js');
const EVENT = readFileSync(resolve(import.meta.dirname, '../test/launcher/fixtures/sns-event.json'), 'utf8');
const LOAD_RUNS = 21;
const TRIGGER_RUNS = 11;
const WORKER = 'iwomp-worker';
const TABLE = 'iwomp-deploys';

const CPU = "const u=process.cpuUsage();process.stderr.write('CPU '+(u.user+u.system)/1000+'\\n')";

/**
 * The seed's launcher, in spirit: aws-sdk v2, its two clients built at load, the same AWS calls as
 * ours (the `_default` and the project parameter, then StartBuild with the same overrides), none
 * of our checks. It is the anchor, not a product: it lives here only.
 */
function seedHandler(awsSdk: string): string {
  return `'use strict';
const AWS = require(${JSON.stringify(awsSdk)});
const endpoint = process.env.AWS_ENDPOINT_URL;
const ssm = new AWS.SSM({ endpoint });
const codebuild = new AWS.CodeBuild({ endpoint });
const configPath = process.env.CONFIGPATH || 'iwomp-in-aws';
async function param(name) {
  try {
    return (await ssm.getParameter({ Name: '/' + configPath + '/' + name, WithDecryption: true }).promise()).Parameter.Value;
  } catch (error) {
    if (error.code === 'ParameterNotFound') return undefined;
    throw error;
  }
}
exports.handler = async (event) => {
  const results = [];
  for (const record of event.Records) {
    const message = JSON.parse(record.Sns.Message);
    await param('_default');
    if ((await param(message.project)) === undefined) throw new Error('project not registered');
    const build = await codebuild.startBuild({
      projectName: process.env.WORKER_PROJECT_NAME,
      environmentVariablesOverride: [
        { name: 'PROJECTNAME', value: message.project, type: 'PLAINTEXT' },
        { name: 'GITBRANCH', value: message.branch, type: 'PLAINTEXT' },
      ],
    }).promise();
    results.push(build.build.id);
  }
  return results;
};
`;
}

interface Sample {
  wall: number;
  cpu: number;
}

function sample(code: string, env: NodeJS.ProcessEnv): Sample {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', `${code};${CPU}`], {
    env,
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = /^CPU (\S+)$/m.exec(run.stderr)?.[1];
  if (run.status !== 0 || cpu === undefined) throw new Error(`node failed: ${run.stderr}`);
  return { wall, cpu: Number(cpu) };
}

const importOf = (file: string) => `await import(${JSON.stringify(pathToFileURL(file).href)})`;
const triggerOf = (file: string) =>
  `const m=${importOf(file)};const h=m.handler??m.default.handler;await h(JSON.parse(process.env.EVENT))`;

type Series = Record<string, Sample[]>;

function interleave(runs: number, cases: Record<string, () => Sample>): Series {
  const series: Series = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const run of Object.values(cases)) run(); // warm the file cache
  for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(cases)) series[name]?.push(run());
  return series;
}

const over = (series: Series, name: string, key: keyof Sample) =>
  median((series[name] ?? []).map((s) => s[key])) - median((series.empty ?? []).map((s) => s[key]));

export async function run(): Promise<Figure[]> {
  const bytes = statSync(BUNDLE).size;
  const dir = mkdtempSync(join(tmpdir(), 'iwomp-bench-launcher-'));
  const moto = await startMoto();
  try {
    const emptyModule = join(dir, 'empty.mjs');
    writeFileSync(emptyModule, 'export {};\n');
    const seed = join(dir, 'seed-handler.cjs');
    writeFileSync(seed, seedHandler(createRequire(import.meta.url).resolve('aws-sdk')));

    const loadEnv = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      WORKER_PROJECT_NAME: WORKER,
      IWOMP_DEPLOY_TABLE: TABLE,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    };
    const load = interleave(LOAD_RUNS, {
      empty: () => sample('', loadEnv),
      floor: () => sample(importOf(emptyModule), loadEnv),
      launcher: () => sample(importOf(BUNDLE), loadEnv),
    });

    await createWorkerProject(new CodeBuildClient(moto.clientConfig), WORKER);
    const dynamodb = new DynamoDBClient(moto.clientConfig);
    await createDeployTable(dynamodb, TABLE);
    for (let i = 0; i <= TRIGGER_RUNS; i++) await createDeployTable(dynamodb, `${TABLE}-${i}`);
    let tables = 0;
    await register(new SSMClient(moto.clientConfig), 'iwomp-in-aws', 'demo', {
      gitUrl: 'https://git.example.com/demo.git',
      command: './deploy.sh',
    });
    const triggerEnv = {
      PATH: process.env.PATH ?? '',
      ...moto.env,
      WORKER_PROJECT_NAME: WORKER,
      IWOMP_DEPLOY_TABLE: TABLE,
      CONFIGPATH: 'iwomp-in-aws',
      EVENT,
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    };
    const trigger = interleave(TRIGGER_RUNS, {
      empty: () => sample('', triggerEnv),
      // A table of its own per run: each run records a new trigger in an idle lane and starts its
      // build, as the first trigger of a quiet project does (not a redelivery, not a queued one).
      launcher: () =>
        sample(triggerOf(BUNDLE), { ...triggerEnv, IWOMP_DEPLOY_TABLE: `${TABLE}-${tables++}` }),
      seed: () => sample(triggerOf(seed), triggerEnv),
    });

    const kb = bytes / 1000;
    const loadWall = over(load, 'launcher', 'wall');
    const ours = over(trigger, 'launcher', 'wall');
    const theirs = over(trigger, 'seed', 'wall');
    return [
      {
        suite: 'launcher',
        name: 'bundle dist/launcher.js',
        value: kb,
        unit: 'KB',
        goal: { atMost: 400 },
        anchor: `${bytes} bytes`,
      },
      {
        suite: 'launcher',
        name: 'cold load (import + clients) over empty node',
        value: loadWall,
        unit: 'ms',
        goal: { atMost: 40 },
        anchor: `an empty ES module: ${over(load, 'floor', 'wall').toFixed(1)} ms`,
        how: `median of ${LOAD_RUNS}, alternating; CPU ${over(load, 'launcher', 'cpu').toFixed(1)} ms`,
      },
      {
        suite: 'launcher',
        name: 'one trigger against moto (load + 2 GetParameter + StartBuild, + its record and lane in ours): ours / aws-sdk v2 seed',
        value: ours / theirs,
        unit: 'ratio',
        goal: { atMost: 0.5 },
        anchor: `ours ${ours.toFixed(1)} ms, seed-style v2 ${theirs.toFixed(1)} ms over empty node`,
        how:
          `median of ${TRIGGER_RUNS}, alternating; CPU ours ${over(trigger, 'launcher', 'cpu').toFixed(1)} ms, ` +
          `v2 ${over(trigger, 'seed', 'cpu').toFixed(1)} ms`,
      },
    ];
  } finally {
    await moto.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
