import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git } from '../support/git-server.js';

const PACKAGE = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'iwomp-demo-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function npmStart(
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['start', '--silent'], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

describe('npm start (the README demo)', () => {
  it('from a clean checkout: builds, deploys main, rejects the feature branch, writes only dist/ and .iwomp/', async () => {
    // GIVEN a clean checkout: the package's files as git sees them, without dist/ or a state directory.
    const checkout = join(root, 'checkout');
    for (const file of git(PACKAGE, 'ls-files', '--cached', '--others', '--exclude-standard').split('\n')) {
      if (file !== '' && existsSync(join(PACKAGE, file))) cpSync(join(PACKAGE, file), join(checkout, file));
    }
    symlinkSync(join(PACKAGE, 'node_modules'), join(checkout, 'node_modules'));
    const before = listFiles(checkout);
    const stateDir = join(checkout, '.iwomp');
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);

    // WHEN npm start runs the demo in it
    const { code, output } = await npmStart(checkout, { IWOMP_STATE_DIR: '', TMPDIR: tmp });

    // THEN it exits 0, having deployed main and rejected the feature branch
    expect(output).not.toMatch(/iwomp demo: /);
    expect(code).toBe(0);
    expect(output).toMatch(/accepted: job demo-\S+/);
    expect(output).toMatch(/│ building the site from branch main at [0-9a-f]{40}/);
    expect(output).toContain('demo main · succeeded (exit 0)');
    expect(output).toContain('the site now says: Hello from the main branch!');
    expect(output).toContain(
      "rejected: branch 'feature/new-greeting' may not deploy project 'demo' (allowed: main)",
    );
    // AND it goes through the CLI and shows the commands a user types, and where to look next.
    expect(output).toContain(
      '$ npx iwomp projects put demo --local --git-url file://$PWD/.iwomp/demo/repo --command ./deploy.sh',
    );
    expect(output).toMatch(/\$ npx iwomp trigger demo main --commit [0-9a-f]{40} --local --wait\n/);
    expect(output).toMatch(/^ {2}demo-\S+ +demo +main +succeeded +0 /m);
    expect(output).toContain('Where to look next');
    const jobId = /accepted: job (demo-\S+)/.exec(output)?.[1];
    expect(output).toContain(`npx iwomp jobs logs ${jobId}`);
    expect(output).toContain('docs/infra.md');
    // AND the deploy really happened: the site exists, built from main.
    expect(readFileSync(join(stateDir, 'demo', 'site', 'index.html'), 'utf8')).toContain(
      'Hello from the main branch!',
    );
    // AND exactly one job: the rejected trigger created none.
    const jobs = readdirSync(join(stateDir, 'jobs')).filter((n) => n.endsWith('.json'));
    expect(jobs).toHaveLength(1);
    // AND nothing left behind: no work directory, no temp file (tsx keeps its own compile cache there).
    expect(readdirSync(join(stateDir, 'work'))).toEqual([]);
    expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
    const added = listFiles(checkout).filter((f) => !before.includes(f));
    expect(added.filter((f) => !f.startsWith('dist/') && !f.startsWith('.iwomp/'))).toEqual([]);
    expect(added).toContain('dist/worker.js');
    expect(output).toContain('Building dist/');
  });
});

/** Every file under a folder, relative, without following node_modules. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.name === 'node_modules') return [];
    return entry.isDirectory() ? listFiles(dir, path) : [path];
  });
}
