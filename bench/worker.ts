/**
 * Worker against a raw `git clone --depth 1 --single-branch` of the same repository, served by
 * the same local smart-HTTP server, cloning into /dev/shm (disk noise would swamp the figures).
 * Runs alternate between the two so that machine noise hits both alike.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGitServer } from '../test/support/git-server.js';
import { createRepo } from '../test/support/repos.js';
import { WORKER_BUNDLE } from '../test/support/worker-process.js';
import type { Figure } from './figures.js';
import { measureProcess, median, ms } from './stats.js';

const SHM = existsSync('/dev/shm') ? '/dev/shm' : undefined;

function bigFiles(count: number, bytesEach: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    // Hex text: compresses about 2:1, like source code, unlike pure random bytes.
    files[`src/d${i % 50}/file-${i}.txt`] = randomBytes(bytesEach / 2).toString('hex');
  }
  return files;
}

async function compare(root: string, repoName: string, files: Record<string, string>, runs: number) {
  createRepo(root, repoName).commit('main', {
    ...files,
    'noop.sh': { content: '#!/bin/sh\n', executable: true },
  });
  const server = await startGitServer(root);
  const registry = join(root, `${repoName}-registry`);
  const work = join(root, `${repoName}-jobs`);
  mkdirSync(registry);
  mkdirSync(work);
  writeFileSync(
    join(registry, 'bench.json'),
    JSON.stringify({ gitUrl: server.url(`${repoName}.git`), command: './noop.sh' }),
  );
  const workerEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    IWOMP_REGISTRY: `file:${registry}`,
    IWOMP_WORKDIR: work,
    // Like the raw clone, the worker leaves its clone in place; both are removed outside the
    // timing, and the worker's own cleanup is timed on its own below.
    IWOMP_KEEP_WORKDIR: '1',
    PROJECTNAME: 'bench',
    GITBRANCH: 'main',
  };
  const worker: number[] = [];
  const clone: number[] = [];
  const workerCpu: number[] = [];
  const cloneCpu: number[] = [];
  const cleanup: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const target = join(work, `clone-${i}`);
      const cloned = await measureProcess('git', [
        'clone',
        '--quiet',
        '--depth',
        '1',
        '--single-branch',
        '--branch',
        'main',
        server.url(`${repoName}.git`),
        target,
      ]);
      clone.push(cloned.wall);
      cloneCpu.push(cloned.cpu);
      rmSync(target, { recursive: true, force: true });
      const deployed = await measureProcess(process.execPath, [WORKER_BUNDLE], workerEnv);
      worker.push(deployed.wall);
      workerCpu.push(deployed.cpu);
      for (const dir of readdirSync(work)) {
        const started = performance.now();
        rmSync(join(work, dir), { recursive: true, force: true });
        cleanup.push(performance.now() - started);
      }
    }
  } finally {
    await server.stop();
  }
  return {
    worker: median(worker),
    clone: median(clone),
    workerCpu: median(workerCpu),
    cloneCpu: median(cloneCpu),
    cleanup: median(cleanup),
  };
}

export async function run(): Promise<Figure[]> {
  if (!SHM) throw new Error('/dev/shm is needed for the clone benchmark');
  const root = mkdtempSync(join(SHM, 'iwomp-bench-'));
  try {
    const big = await compare(root, 'big', bigFiles(5000, 10_000), 7);
    const tiny = await compare(root, 'tiny', { 'README.md': 'tiny\n' }, 21);
    const clone = 'git clone --depth 1 --single-branch';
    return [
      {
        suite: 'worker',
        name: '5,000 files, 50 MB: worker / raw clone',
        value: big.worker / big.clone,
        unit: 'ratio',
        goal: { atMost: 1.05 },
        anchor: `${clone}: ${ms(big.clone)}; worker ${ms(big.worker)}`,
        how: 'median of 7, alternating, /dev/shm',
      },
      {
        suite: 'worker',
        name: "5,000 files: worker's work dir removal",
        value: big.cleanup,
        unit: 'ms',
        anchor: 'after the command; skipped in CodeBuild',
        how: 'median of 7',
      },
      {
        suite: 'worker',
        name: 'tiny repo: worker overhead over the raw clone',
        value: tiny.worker - tiny.clone,
        unit: 'ms',
        goal: { atMost: 60 },
        anchor: `${clone}: ${ms(tiny.clone)}; worker ${ms(tiny.worker)}`,
        how: 'median of 21, alternating, /dev/shm',
      },
      {
        suite: 'worker',
        name: 'tiny repo: worker CPU over the raw clone (user + system, with git)',
        value: tiny.workerCpu - tiny.cloneCpu,
        unit: 'ms',
        anchor: `${clone}: ${ms(tiny.cloneCpu)} CPU; worker ${ms(tiny.workerCpu)} CPU`,
        how: 'median of 21; moves less than wall time on a busy machine',
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
