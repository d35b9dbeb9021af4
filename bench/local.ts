/**
 * Local mode: from a trigger to the start of the deploy command, on a tiny repository (a file://
 * URL on /dev/shm when there is one: clone timings on a disk are mostly disk noise). Goal: median ≤ 300 ms.
 * Also reports how long `trigger` takes to answer (validation, registry, record, runner spawn).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalBackend } from '../src/adapters/local/local-backend.js';
import type { Figure } from './figures.js';

const RUNS = 15;
const CLI = resolve(import.meta.dirname, '../dist/cli.js');

export async function run(): Promise<Figure[]> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = mkdtempSync(join(base, 'iwomp-bench-local-'));
  try {
    const repo = join(root, 'repo');
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, stdio: 'pipe' });
    execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo], { env });
    // The first thing the deploy command does is write the wall-clock time, in nanoseconds.
    writeFileSync(join(repo, 'start.sh'), '#!/bin/sh\ndate +%s%N > "$BENCH_MARK"\n');
    chmodSync(join(repo, 'start.sh'), 0o755);
    git('add', '--all');
    git('-c', 'user.name=bench', '-c', 'user.email=bench@iwomp.invalid', 'commit', '--quiet', '-m', 'bench');

    const stateDir = join(root, 'state');
    const setup = new LocalBackend({ stateDir });
    await setup.registry.put(
      'bench',
      JSON.stringify({ gitUrl: pathToFileURL(repo).href, command: './start.sh', branches: ['main'] }),
      { secure: false },
    );

    const toCommand: number[] = [];
    const toAccepted: number[] = [];
    const toWorker: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const mark = join(root, `mark-${i}`);
      const local = new LocalBackend({ stateDir, env: { ...process.env, BENCH_MARK: mark } });
      const t0 = performance.timeOrigin + performance.now();
      const outcome = await local.trigger({ project: 'bench', branch: 'main' });
      const accepted = performance.timeOrigin + performance.now();
      if (outcome.outcome !== 'accepted') throw new Error(`bench trigger rejected: ${outcome.reason}`);
      const record = await local.follow(outcome.jobId, { pollMs: 10 });
      if (record.state !== 'succeeded') throw new Error(`bench job ${record.state}: ${record.error}`);
      const started = Number(readFileSync(mark, 'utf8').trim()) / 1e6;
      if (i === 0) continue; // warm-up: file cache, git's first run
      toCommand.push(started - t0);
      toAccepted.push(accepted - t0);
      toWorker.push(Date.parse(record.startedAt ?? '') - t0);
    }
    // What a user types: `iwomp trigger --local` in a new process (CLI start-up included).
    const fromCli: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const mark = join(root, `cli-mark-${i}`);
      const t0 = performance.timeOrigin + performance.now();
      const id = execFileSync(process.execPath, [CLI, 'trigger', 'bench', 'main', '--local', '--no-commit'], {
        cwd: root,
        env: { ...process.env, IWOMP_STATE_DIR: stateDir, BENCH_MARK: mark },
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim();
      const record = await setup.follow(id, { pollMs: 10 });
      if (record.state !== 'succeeded') throw new Error(`bench job ${record.state}: ${record.error}`);
      if (i === 0) continue;
      fromCli.push(Number(readFileSync(mark, 'utf8').trim()) / 1e6 - t0);
    }
    const how = `median of ${RUNS}, tiny repo on ${base}`;
    return [
      {
        suite: 'local',
        name: 'local trigger → deploy command start',
        value: median(toCommand),
        unit: 'ms',
        goal: { atMost: 300 },
        anchor: `of which trigger → accepted ${median(toAccepted).toFixed(0)} ms, → worker spawned ${median(toWorker).toFixed(0)} ms`,
        how: `${how}; ${summary(toCommand)}`,
      },
      {
        suite: 'local',
        name: 'iwomp trigger --local (new process) → deploy command start',
        value: median(fromCli),
        unit: 'ms',
        how: `${how}; ${summary(fromCli)}`,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return `min ${at(0).toFixed(0)}, p90 ${at(0.9).toFixed(0)}, max ${at(1).toFixed(0)} ms`;
}
