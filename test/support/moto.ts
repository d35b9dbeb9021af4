import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** SDK v3 client settings that point at a moto server. */
export interface AwsTestConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface Moto {
  readonly endpoint: string;
  readonly clientConfig: AwsTestConfig;
  /** Environment for child processes (worker, CLI, aws CLI) that should talk to this server. */
  readonly env: Record<string, string>;
  /** Requests recorded since the last `startRecording`, one object per request. */
  recordedRequests(): Promise<RecordedRequest[]>;
  startRecording(): Promise<void>;
  stop(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Decoded body. */
  body: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a real moto server (AWS wire protocol) on a free loopback port, with its request
 * recorder writing to a private file.
 */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'iwomp-moto-'));
  const child = spawn(
    'python3',
    [join(import.meta.dirname, 'moto_server.py'), '-H', '127.0.0.1', '-p', String(port)],
    {
      env: { ...process.env, MOTO_RECORDER_FILEPATH: join(dir, 'recording') },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto_server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const clientConfig: AwsTestConfig = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  return {
    endpoint,
    clientConfig,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    },
    async startRecording() {
      await fetch(`${endpoint}/moto-api/recorder/reset-recording`, { method: 'POST' });
      await fetch(`${endpoint}/moto-api/recorder/start-recording`, { method: 'POST' });
    },
    async recordedRequests() {
      const text = await (await fetch(`${endpoint}/moto-api/recorder/download-recording`)).text();
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const raw = JSON.parse(line) as Omit<RecordedRequest, 'body'> & {
            body?: string;
            body_encoded?: boolean;
          };
          const body = raw.body
            ? raw.body_encoded
              ? Buffer.from(raw.body, 'base64').toString('utf8')
              : raw.body
            : '';
          return { method: raw.method, url: raw.url, headers: raw.headers, body };
        });
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
