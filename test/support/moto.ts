import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';

/** SDK v3 client settings that point at a moto server. */
export interface AwsTestConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The account and region every moto server of the harness answers for. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'us-east-1';

export interface MotoOptions {
  /**
   * Enforce IAM: moto checks every request against the caller's policies (and, through the
   * harness patches in moto_server.py, SSM parameter and CodeBuild project ARNs). The harness
   * creates an admin user first; `clientConfig` and `env` then carry the admin's keys.
   * @default false - every request is allowed, with the dummy keys `testing`
   */
  readonly enforceIam?: boolean;
  /**
   * Load AWS managed policies (`arn:aws:iam::aws:policy/...`) so roles can attach them; moto
   * leaves them out by default. Costs moto a second or two on its first IAM call.
   * @default false
   */
  readonly awsManagedPolicies?: boolean;
}

export interface Moto {
  readonly endpoint: string;
  readonly account: string;
  readonly region: string;
  /** The admin user when IAM is enforced (its keys are those of `clientConfig`). */
  readonly admin?: { readonly arn: string };
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

/** Requests moto serves without IAM checks before it enforces: the admin's CreateUser, PutUserPolicy, CreateAccessKey. */
const ADMIN_SETUP_REQUESTS = 3;
const ADMIN_USER = 'iwomp-test-admin';

/**
 * Starts a real moto server (AWS wire protocol) on a free loopback port, with its request
 * recorder writing to a private file.
 */
export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'iwomp-moto-'));
  const child = spawn(
    'python3',
    [join(import.meta.dirname, 'moto_server.py'), '-H', '127.0.0.1', '-p', String(port)],
    {
      env: {
        ...process.env,
        MOTO_RECORDER_FILEPATH: join(dir, 'recording'),
        ...(options.enforceIam ? { INITIAL_NO_AUTH_ACTION_COUNT: String(ADMIN_SETUP_REQUESTS) } : {}),
        ...(options.awsManagedPolicies ? { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } : {}),
      },
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
  let credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  let admin: { arn: string } | undefined;
  if (options.enforceIam) {
    try {
      ({ credentials, admin } = await createAdmin({ endpoint, region: MOTO_REGION, credentials }));
    } catch (error) {
      child.kill('SIGTERM');
      throw error;
    }
  }
  const clientConfig: AwsTestConfig = { endpoint, region: MOTO_REGION, credentials };
  return {
    endpoint,
    account: MOTO_ACCOUNT,
    region: MOTO_REGION,
    ...(admin ? { admin } : {}),
    clientConfig,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: MOTO_REGION,
      AWS_DEFAULT_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
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

/**
 * The admin user, created within moto's first unchecked requests: allowed everything, as the
 * account's administrator would be. Every later request is checked.
 */
async function createAdmin(
  config: AwsTestConfig,
): Promise<{ credentials: AwsTestConfig['credentials']; admin: { arn: string } }> {
  const iam = new IAMClient(config);
  try {
    const user = await iam.send(new CreateUserCommand({ UserName: ADMIN_USER }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: ADMIN_USER,
        PolicyName: 'admin',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        }),
      }),
    );
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: ADMIN_USER }));
    const arn = user.User?.Arn;
    const accessKeyId = key.AccessKey?.AccessKeyId;
    const secretAccessKey = key.AccessKey?.SecretAccessKey;
    if (!arn || !accessKeyId || !secretAccessKey) throw new Error('moto: the admin user has no keys');
    return { credentials: { accessKeyId, secretAccessKey }, admin: { arn } };
  } finally {
    iam.destroy();
  }
}
