import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { createRepo } from '../support/repos.js';
import { WORKER_BUNDLE } from '../support/worker-process.js';

// A token with characters each encoding changes, so every form differs from the raw value.
const TOKEN = 'tok_9f/3c+e1"a\\72=b4d8';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const sh = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

let root: string;
let registry: string;
let server: GitServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'iwomp-redaction-'));
  registry = join(root, 'registry');
  mkdirSync(registry);
  const half = 9;
  // A deploy script that leaks the token (say, read from a file the build left behind) in the
  // forms that tools print it in, and split between stdout and stderr.
  const script = [
    '#!/bin/sh',
    `echo "base64: ${b64(TOKEN)}"`,
    `echo "basic header: Basic ${b64(`x-access-token:${TOKEN}`)}"`,
    `echo "url: https://example.com/?t=${encodeURIComponent(TOKEN)}"`,
    `printf '%s\\n' ${sh(`json: ${JSON.stringify({ token: TOKEN })}`)}`,
    `echo "hex: ${Buffer.from(TOKEN).toString('hex')}"`,
    `printf '%s' ${sh(`split: ${TOKEN.slice(0, half)}`)}`,
    // stdout closes with half the token; the rest follows on stderr.
    'exec 1>&-',
    'sleep 0.3',
    `printf '%s\\n' ${sh(TOKEN.slice(half))} >&2`,
  ].join('\n');
  createRepo(root, 'app').commit('main', { 'deploy.sh': { content: `${script}\n`, executable: true } });
  server = await startGitServer(root, { kind: 'token', token: TOKEN });
  writeFileSync(
    join(registry, 'app.json'),
    JSON.stringify({ gitUrl: server.url('app.git'), authToken: TOKEN, command: './deploy.sh' }),
  );
});

afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Runs the worker with stdout and stderr on one file, as CodeBuild's log has them. */
async function runMerged(): Promise<{ code: number | null; log: string }> {
  const logFile = join(root, 'build.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [WORKER_BUNDLE], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: root,
      IWOMP_REGISTRY: `file:${registry}`,
      PROJECTNAME: 'app',
      GITBRANCH: 'main',
    },
    stdio: ['ignore', fd, fd],
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  closeSync(fd);
  return { code, log: readFileSync(logFile, 'utf8') };
}

describe('the build log never shows the token', () => {
  it('in any common encoding, nor split between stdout and stderr', async () => {
    // WHEN the deploy prints the token in many forms into a log that merges stdout and stderr
    const { code, log } = await runMerged();
    // THEN it deployed, and no form of the token is in the log
    expect(code).toBe(0);
    expect(log).toContain('base64: ***');
    expect(log).toContain('url: https://example.com/?t=***');
    expect(log).toContain('split: ');
    expect(log).toContain('json: {"token":"***"}');
    for (const form of [
      TOKEN,
      b64(TOKEN),
      b64(`x-access-token:${TOKEN}`),
      encodeURIComponent(TOKEN),
      JSON.stringify(TOKEN).slice(1, -1),
      Buffer.from(TOKEN).toString('hex'),
    ]) {
      expect(log).not.toContain(form);
    }
    expect(log).not.toMatch(/tok_9f\/3c\+e/);
  });
});
