/**
 * `trigger --wait` against moto: the time from a deploy record's close (the launcher's final write
 * acknowledged) to the built CLI's exit. The bench plays the launcher: it writes the record as
 * received, then running, holds it there long enough for the CLI's polling to have slowed to its
 * steadiest pace, then closes it at a random point of that pace, as a real deploy's end would fall.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { recordKey } from '../src/adapters/aws/deploy-table.js';
import { type DeployRecord, finalOutcome } from '../src/core/deploy-record.js';
import { markEnded, markQueued, markRunning, markStarted } from '../src/core/job-record.js';
import { createDeployTable, writeRecord } from '../test/support/deploy-table.js';
import { startMoto } from '../test/support/moto.js';
import { createTopicWithQueue } from '../test/support/sns-queue.js';
import type { Figure } from './figures.js';
import { median } from './stats.js';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const RUNS = 15;
const TABLE = 'iwomp-deploys';

export async function run(): Promise<Figure[]> {
  const moto = await startMoto();
  const dir = mkdtempSync(join(tmpdir(), 'iwomp-bench-wait-'));
  try {
    const topic = await createTopicWithQueue(moto, 'iwomp-jobs');
    const dynamodb = await createDeployTable(moto, TABLE);
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let stderr = '';
      const child = spawn(
        process.execPath,
        [
          CLI,
          'trigger',
          'demo',
          'main',
          '--no-commit',
          '--wait',
          '--topic-arn',
          topic.topicArn,
          '--table',
          TABLE,
        ],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...moto.env,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
      const delivered = await topic.next(10);
      if (delivered === undefined) throw new Error(`bench wait: nothing published: ${stderr}`);
      const received: DeployRecord = {
        version: 1,
        id: delivered.messageId,
        project: 'demo',
        branch: 'main',
        state: 'received',
        createdAt: new Date().toISOString(),
      };
      const running = markRunning(
        { ...markStarted(markQueued(received), new Date()), buildId: `iwomp-worker:${i}` },
        new Date(),
      );
      await writeRecord(dynamodb, TABLE, running);
      for (let t = 0; !stderr.includes('running: clone'); t++) {
        if (t > 500) throw new Error(`bench wait: the CLI never showed the running record: ${stderr}`);
        await sleep(20);
      }
      // Polling slows to once a second within 3 s of the last change; the close then falls anywhere in a period.
      await sleep(3000 + Math.random() * 1000);
      await writeRecord(dynamodb, TABLE, markEnded(running, finalOutcome(running, 'SUCCEEDED'), new Date()));
      const closed = performance.now();
      const code = await exited;
      samples.push(performance.now() - closed);
      if (code !== 0) throw new Error(`bench wait: trigger --wait exited ${code}: ${stderr}`);
    }
    // What one poll costs here: a strongly consistent GetItem on moto.
    const reads: number[] = [];
    for (let i = 0; i < 21; i++) {
      const started = performance.now();
      await dynamodb.send(
        new GetItemCommand({ TableName: TABLE, Key: recordKey('x'), ConsistentRead: true }),
      );
      reads.push(performance.now() - started);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const how = `median of ${RUNS}, built CLI against moto, close 3-4 s into a steady wait`;
    return [
      {
        suite: 'wait',
        name: 'record closed → trigger --wait exits',
        value: median(samples),
        unit: 'ms',
        goal: { atMost: 2000 },
        anchor: `GetItem on moto: ${median(reads).toFixed(1)} ms; polling at most every 1000 ms`,
        how,
      },
      {
        suite: 'wait',
        name: 'record closed → trigger --wait exits (slowest)',
        value: sorted[sorted.length - 1] ?? Number.NaN,
        unit: 'ms',
        how: `max of ${RUNS}`,
      },
    ];
  } finally {
    await moto.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
