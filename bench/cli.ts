/**
 * CLI start-up: what every CI trigger pays before its one SNS call. Measures the built bundle
 * against an empty node start, and `projects list` over a folder registry of 50 projects.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Figure } from './figures.js';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const RUNS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function time(args: string[], env: Record<string, string | undefined> = process.env): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr.toString()}`);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

export async function run(): Promise<Figure[]> {
  const registry = mkdtempSync(join(tmpdir(), 'iwomp-bench-cli-'));
  try {
    for (let i = 0; i < 50; i++) {
      writeFileSync(
        join(registry, `project-${i}.json`),
        JSON.stringify({
          gitUrl: `https://git.example/p${i}.git`,
          command: './deploy.sh',
          branches: ['main'],
        }),
      );
    }
    const empty = time(['-e', '']);
    const version = time([CLI, '--version']);
    const list = time([CLI, 'projects', 'list'], { ...process.env, IWOMP_REGISTRY: `file:${registry}` });
    const how = `median of ${RUNS}`;
    return [
      {
        suite: 'cli',
        name: 'iwomp --version over empty node',
        value: version - empty,
        unit: 'ms',
        anchor: `node -e '': ${empty.toFixed(1)} ms`,
        how,
      },
      {
        suite: 'cli',
        name: 'iwomp projects list (50, folder) over empty node',
        value: list - empty,
        unit: 'ms',
        anchor: `node -e '': ${empty.toFixed(1)} ms`,
        how,
      },
    ];
  } finally {
    rmSync(registry, { recursive: true, force: true });
  }
}
