/**
 * `npm start`: the whole pipeline on this machine, in seconds, offline. Builds if needed, makes a
 * demo git repository from examples/demo-repo (branches `main` and `feature/new-greeting`),
 * registers it locally with `branches: ["main"]`, triggers `main` (deployed) and the feature
 * branch (rejected by the registry's rule), all through the `iwomp` CLI in this process, with the
 * command lines a user would type. Everything it writes is under the state directory
 * (`.iwomp/`, or `IWOMP_STATE_DIR`).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OutputStream } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import { localPaths, resolveStateDir } from '../src/local/state-dir.js';
import { main as build } from './build.js';

const PACKAGE = resolve(import.meta.dirname, '..');
const PROJECT = 'demo';
const FEATURE = 'feature/new-greeting';

async function demo(): Promise<boolean> {
  const cwd = process.cwd();
  const shown = (path: string) => {
    const rel = relative(cwd, path);
    return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
  };
  await buildIfNeeded();

  const paths = localPaths(resolveStateDir(process.env, cwd));
  const demoDir = join(paths.root, 'demo');
  const repo = join(demoDir, 'repo');
  const site = join(demoDir, 'site');
  rmSync(demoDir, { recursive: true, force: true });
  const commits = createDemoRepo(repo);
  step(`Created a demo git repository in ${shown(repo)}: branches main and ${FEATURE}`);

  // The demo types what a user types: the CLI in this process, on the demo's own state directory.
  const iwomp = cliRunner(cwd, paths.root);

  step(`Register it as project '${PROJECT}', allowed to deploy from main only`);
  const put = await iwomp([
    'projects',
    'put',
    PROJECT,
    '--local',
    '--git-url',
    pathToFileURL(repo).href,
    '--command',
    './deploy.sh',
    '--command',
    site,
    '--branch',
    'main',
  ]);
  if (put.code !== 0) return fail(`registering the demo failed (exit ${put.code})`);

  step('Trigger main, and wait for the deploy');
  const main = await iwomp(['trigger', PROJECT, 'main', '--commit', commits.main, '--local', '--wait']);
  const jobId = main.stdout.trim();
  if (main.code !== 0) return fail(`the main job failed (exit ${main.code})`);
  console.log(`  accepted: job ${jobId}`);
  const page = readFileSync(join(site, 'index.html'), 'utf8');
  console.log(`  the site now says: ${/<h1>(.*)<\/h1>/.exec(page)?.[1] ?? page}`);

  step(`Trigger ${FEATURE}`);
  const feature = await iwomp(['trigger', PROJECT, FEATURE, '--commit', commits.feature, '--local']);
  if (feature.code !== 6) return fail(`the feature branch was not rejected (exit ${feature.code})`);
  console.log('  (exit 6; no job was created: a branch cannot allow itself, the rule lives in the registry)');
  await iwomp(['jobs', 'list']);

  step('Where to look next');
  console.log(`  the job's log:            npx iwomp jobs logs ${jobId}     (--follow while it runs)`);
  console.log(`  its record:               npx iwomp jobs show ${jobId}`);
  console.log(`  the deployed site:        ${shown(join(site, 'index.html'))}`);
  console.log('  register your own repo:   npx iwomp projects put <name> --local --git-url <url> \\');
  console.log('                              --command ./deploy.sh --branch main');
  console.log('  and deploy it:            npx iwomp trigger <name> main --local --wait');
  console.log('  deploy from AWS:          docs/infra.md (./bin/deploy_infra.sh), then iwomp projects put');
  console.log('                            and iwomp trigger without --local (docs/cli.md, docs/local.md)');
  return true;
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
}

/**
 * Runs `iwomp` in this process, showing the command line as a user would type it and what it
 * prints: progress and results indented, the job's log behind a bar.
 */
function cliRunner(cwd: string, stateDir: string): (argv: string[]) => Promise<CliResult> {
  // The demo's state directory and its own registry, whatever the shell has set for other work.
  const env: Record<string, string | undefined> = { ...process.env, IWOMP_STATE_DIR: stateDir };
  delete env.IWOMP_REGISTRY;
  delete env.IWOMP_BACKEND;
  return async (argv) => {
    console.log(`  $ npx iwomp ${argv.map((a) => displayArg(a, cwd)).join(' ')}`);
    let stdout = '';
    const out = lines((line) => {
      stdout += `${line}\n`;
      console.log(`  ${line}`);
    });
    const err = lines((line) =>
      console.log(/^(» |iwomp: )/.test(line) ? `  ${line}` : `  │ ${line}`.trimEnd()),
    );
    const code = await runCli(argv, { env, cwd, stdout: out.stream, stderr: err.stream });
    out.flush();
    err.flush();
    return { code, stdout };
  };
}

/** An output stream that hands over whole lines. */
function lines(onLine: (line: string) => void): { stream: OutputStream; flush(): void } {
  let pending = '';
  return {
    stream: {
      write: (chunk: string) => {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const part of parts) onLine(part);
        return true;
      },
    },
    flush: () => {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

/** An argument as it could be typed: paths under the working directory as `$PWD/…`, quoted when needed. */
function displayArg(arg: string, cwd: string): string {
  const fileUrl = pathToFileURL(cwd).href;
  const short = arg.startsWith(`${cwd}/`)
    ? `$PWD${arg.slice(cwd.length)}`
    : arg.startsWith(`${fileUrl}/`)
      ? `file://$PWD${arg.slice(fileUrl.length)}`
      : arg;
  return /^[\w$@%+=:,./-]+$/.test(short) ? short : `"${short.replace(/(["\\`])/g, '\\$1')}"`;
}

/** Builds dist/ when a bundle is missing or older than a source file. */
async function buildIfNeeded(): Promise<void> {
  const bundles = ['cli', 'worker', 'local-runner'].map((name) => join(PACKAGE, 'dist', `${name}.js`));
  const oldest = Math.min(...bundles.map((b) => (existsSync(b) ? statSync(b).mtimeMs : 0)));
  if (oldest > 0 && newestSource(join(PACKAGE, 'src')) <= oldest) return;
  step('Building dist/ (npm run build)');
  await build([]);
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function createDemoRepo(repo: string): { main: string; feature: string } {
  cpSync(join(PACKAGE, 'examples', 'demo-repo'), repo, { recursive: true });
  // A fixed identity and no user or system config: signing or hooks set up on this machine
  // must not change (or break) the demo, and the user's git settings stay untouched.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GIT_')) env[key] = value;
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'iwomp demo',
    GIT_AUTHOR_EMAIL: 'demo@iwomp.invalid',
    GIT_COMMITTER_NAME: 'iwomp demo',
    GIT_COMMITTER_EMAIL: 'demo@iwomp.invalid',
  });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, stdio: 'pipe' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '-m', 'Demo site');
  git('checkout', '--quiet', '-b', FEATURE);
  writeFileSync(join(repo, 'message.txt'), 'Hello from a feature branch that must not reach production!\n');
  git('commit', '--quiet', '--all', '-m', 'A greeting not ready for production');
  const feature = git('rev-parse', 'HEAD').toString().trim();
  git('checkout', '--quiet', 'main');
  return { main: git('rev-parse', 'HEAD').toString().trim(), feature };
}

function step(text: string): void {
  console.log(`\n▸ ${text}`);
}

function fail(message: string): false {
  console.error(`\niwomp demo: ${message}`);
  return false;
}

process.exitCode = (await demo()) ? 0 : 1;
