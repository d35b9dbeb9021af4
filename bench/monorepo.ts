/**
 * A monorepo of 50,000 files where `deployDir` holds 1,000 (2%): the worker's partial clone and
 * sparse checkout against a full `git clone --depth 1` of the same commit, from the same local
 * smart-HTTP server (which serves partial clones, as GitHub does), into /dev/shm. One run of each
 * (a full clone of this tree takes seconds): bytes stored in the clone's `.git`, and wall time.
 * Goals: bytes ≤ 0.3 and time ≤ 0.5 of the full shallow clone.
 *
 * The repository is written once per run with `git fast-import` (a second or two).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGitServer } from '../test/support/git-server.js';
import { WORKER_BUNDLE } from '../test/support/worker-process.js';
import type { Figure } from './figures.js';
import { ms, timeProcess } from './stats.js';

const FILES = 50_000;
const DEPLOY_FILES = 1_000;
const SERVICES = 49;

/** Text that compresses like source code (about 2:1), different in every file: ~1.2 KB. */
function content(): string {
  const hex = randomBytes(480).toString('hex');
  const lines: string[] = [];
  for (let n = 0; n < 12; n++) lines.push(`export const v${n} = '${hex.slice(n * 80, n * 80 + 80)}';`);
  return `${lines.join('\n')}\n`;
}

/** Every path of the tree: 49 services of 1,000 files, infra/ (the deploy) of 1,000, root files. */
function* paths(): Generator<[string, boolean]> {
  yield ['README.md', false];
  yield ['package.json', false];
  for (let i = 0; i < DEPLOY_FILES - 1; i++) yield [`infra/lib/m${i % 20}/stack-${i}.ts`, false];
  yield ['infra/deploy.sh', true];
  const perService = Math.floor((FILES - DEPLOY_FILES - 2) / SERVICES);
  let written = DEPLOY_FILES + 2;
  for (let s = 0; s < SERVICES; s++) {
    const count = s === SERVICES - 1 ? FILES - written : perService;
    for (let i = 0; i < count; i++) yield [`services/svc-${s}/src/d${i % 25}/f-${i}.ts`, false];
    written += count;
  }
}

/** Writes one commit of the whole tree on `main` of a new bare repository, through fast-import. */
async function createMonorepo(bare: string): Promise<number> {
  await exec('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: bare, stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<void>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`)))),
  );
  const out = child.stdin;
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise((r) => out.once('drain', r));
  const message = 'monorepo\n';
  let batch = `commit refs/heads/main\ncommitter bench <bench@iwomp.invalid> 1700000000 +0000\ndata ${message.length}\n${message}`;
  let count = 0;
  for (const [path, executable] of paths()) {
    const data = path === 'infra/deploy.sh' ? '#!/bin/sh\nexit 0\n' : content();
    batch += `M ${executable ? '100755' : '100644'} inline ${path}\ndata ${Buffer.byteLength(data)}\n${data}`;
    count++;
    if (batch.length > 1 << 20) {
      await write(batch);
      batch = '';
    }
  }
  out.end(`${batch}\n`);
  await done;
  return count;
}

function exec(command: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'ignore' });
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args[0]} exited ${code}`)),
    );
  });
}

/** Bytes of the files under a directory (apparent sizes). */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(path);
    else total += lstatSync(path).size;
  }
  return total;
}

function countFiles(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    total += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  }
  return total;
}

export async function run(): Promise<Figure[]> {
  if (!existsSync('/dev/shm')) throw new Error('/dev/shm is needed for the clone benchmark');
  const root = mkdtempSync(join('/dev/shm', 'iwomp-bench-mono-'));
  try {
    const started = performance.now();
    const files = await createMonorepo(join(root, 'mono.git'));
    process.stderr.write(`  monorepo: ${files} files written in ${ms(performance.now() - started)}\n`);
    const server = await startGitServer(root, { kind: 'none' }, { allowFilter: true });
    try {
      const registry = join(root, 'registry');
      const jobs = join(root, 'jobs');
      mkdirSync(registry);
      mkdirSync(jobs);
      writeFileSync(
        join(registry, 'mono.json'),
        JSON.stringify({ gitUrl: server.url('mono.git'), deployDir: 'infra', command: './deploy.sh' }),
      );
      const full = join(root, 'full');
      const cloneMs = await timeProcess('git', [
        'clone',
        '--quiet',
        '--depth',
        '1',
        '--single-branch',
        '--branch',
        'main',
        server.url('mono.git'),
        full,
      ]);
      const workerMs = await timeProcess(process.execPath, [WORKER_BUNDLE], {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        IWOMP_REGISTRY: `file:${registry}`,
        IWOMP_WORKDIR: jobs,
        IWOMP_KEEP_WORKDIR: '1',
        PROJECTNAME: 'mono',
        GITBRANCH: 'main',
      });
      const [job] = readdirSync(jobs);
      const sparse = join(jobs, job ?? '', 'src');
      const fullBytes = bytesUnder(join(full, '.git'));
      const sparseBytes = bytesUnder(join(sparse, '.git'));
      const checkedOut = countFiles(sparse);
      const how = `one run each, ${files} files, deployDir infra/ (${DEPLOY_FILES}), /dev/shm`;
      return [
        {
          suite: 'monorepo',
          name: 'bytes in .git: sparse worker / full shallow clone',
          value: sparseBytes / fullBytes,
          unit: 'ratio',
          goal: { atMost: 0.3 },
          anchor: `git clone --depth 1: ${(fullBytes / 1e6).toFixed(1)} MB; worker ${(sparseBytes / 1e6).toFixed(1)} MB`,
          how,
        },
        {
          suite: 'monorepo',
          name: 'wall time: sparse worker end to end / full shallow clone',
          value: workerMs / cloneMs,
          unit: 'ratio',
          goal: { atMost: 0.5 },
          anchor: `git clone --depth 1: ${ms(cloneMs)}; worker ${ms(workerMs)} (${checkedOut} files checked out)`,
          how,
        },
      ];
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
