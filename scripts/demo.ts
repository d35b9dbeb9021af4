/**
 * `npm start`: the whole pipeline on this machine, in seconds, offline. Builds if needed, makes a
 * demo git repository from examples/demo-repo (branches `main` and `feature/new-greeting`),
 * registers it locally with `branches: ["main"]`, triggers `main` (deployed) and the feature
 * branch (rejected by the registry's rule). Everything it writes is under the state directory
 * (`.iwomp/`, or `IWOMP_STATE_DIR`).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseProjectDocument } from '../src/core/project-config.js';
import { formatProgress } from '../src/local/follow-job.js';
import { LocalBackend } from '../src/local/local-backend.js';
import { resolveStateDir } from '../src/local/state-dir.js';
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

  const stateDir = resolveStateDir(process.env, cwd);
  const local = new LocalBackend({ stateDir });
  const demoDir = join(local.paths.root, 'demo');
  const repo = join(demoDir, 'repo');
  const site = join(demoDir, 'site');
  rmSync(demoDir, { recursive: true, force: true });
  createDemoRepo(repo);
  step(`Created a demo git repository in ${shown(repo)}: branches main and ${FEATURE}`);

  const document = JSON.stringify(
    { gitUrl: pathToFileURL(repo).href, command: ['./deploy.sh', site], branches: ['main'] },
    null,
    2,
  );
  parseProjectDocument(document, 'the demo registration');
  await local.registry.put(PROJECT, `${document}\n`, { secure: false });
  step(`Registered project '${PROJECT}' in ${shown(local.registry.describe(PROJECT))}:`);
  console.log(indent(document));

  step(`Trigger ${JSON.stringify({ project: PROJECT, branch: 'main' })}`);
  const main = await local.trigger({ project: PROJECT, branch: 'main' });
  if (main.outcome !== 'accepted') return fail(`the main branch was rejected: ${main.reason}`);
  console.log(`  accepted: job ${main.jobId}`);
  let lastState = '';
  const record = await local.follow(main.jobId, {
    onOutput: (text) => process.stdout.write(indent(text, '  │ ')),
    onProgress: (progress) => {
      const state = `${progress.record.state}/${progress.record.phase ?? ''}`;
      if (state === lastState) return;
      lastState = state;
      console.log(`  ${formatProgress(progress)}`);
    },
  });
  if (record.state !== 'succeeded') return fail(`the main job ${record.state}: ${record.error ?? ''}`);
  const page = readFileSync(join(site, 'index.html'), 'utf8');
  console.log(`  the site now says: ${/<h1>(.*)<\/h1>/.exec(page)?.[1] ?? page}`);

  step(`Trigger ${JSON.stringify({ project: PROJECT, branch: FEATURE })}`);
  const feature = await local.trigger({ project: PROJECT, branch: FEATURE });
  if (feature.outcome !== 'rejected') return fail(`the feature branch was accepted as job ${feature.jobId}`);
  console.log(`  rejected: ${feature.reason}`);
  console.log('  (no job was created: a branch cannot allow itself, the rule lives in the registry)');

  step('Where to look next');
  console.log(`  the job's record and log:   ${shown(local.store.recordPath(main.jobId))}`);
  console.log(`                              ${shown(local.logPath(main.jobId))}`);
  console.log(`  the deployed site:          ${shown(join(site, 'index.html'))}`);
  console.log(
    `  register your own repo:     add ${shown(join(local.paths.registry, '<name>.json'))} (see docs/local.md)`,
  );
  console.log('  deploy from AWS:            see README.md');
  return true;
}

/** Builds dist/ when a bundle is missing or older than a source file. */
async function buildIfNeeded(): Promise<void> {
  const bundles = ['worker', 'local-runner'].map((name) => join(PACKAGE, 'dist', `${name}.js`));
  const oldest = Math.min(...bundles.map((b) => (existsSync(b) ? statSync(b).mtimeMs : 0)));
  if (oldest > 0 && newestSource(join(PACKAGE, 'src')) <= oldest) return;
  step('Building dist/ (npm run build)');
  const previous = process.cwd();
  process.chdir(PACKAGE);
  try {
    await build();
  } finally {
    process.chdir(previous);
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function createDemoRepo(repo: string): void {
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
  git('checkout', '--quiet', 'main');
}

function step(text: string): void {
  console.log(`\n▸ ${text}`);
}

function indent(text: string, prefix = '  '): string {
  return text.replace(/^(?=.)/gm, prefix);
}

function fail(message: string): false {
  console.error(`\niwomp demo: ${message}`);
  return false;
}

process.exitCode = (await demo()) ? 0 : 1;
