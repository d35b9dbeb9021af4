import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsmRegistry } from '../../src/adapters/aws/ssm-registry.js';
import { FileRegistry } from '../../src/adapters/local/file-registry.js';
import {
  ConfigError,
  InvalidInputError,
  ProjectNotFoundError,
  RegistryError,
} from '../../src/core/errors.js';
import { loadProjectConfig, type Registry } from '../../src/ports/registry.js';
import { type Moto, startMoto } from '../support/moto.js';

let moto: Moto;
let ssm: SSMClient;
let dir: string;
let counter = 0;

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  dir = mkdtempSync(join(tmpdir(), 'iwomp-registry-'));
});

afterAll(async () => {
  ssm.destroy();
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Each test gets an empty registry of each kind: a fresh SSM path, a fresh folder.
const adapters: Array<[string, () => Registry]> = [
  ['SsmRegistry (moto)', () => new SsmRegistry({ configPath: `t${++counter}/iwomp`, ssm })],
  ['FileRegistry', () => new FileRegistry(join(dir, `r${++counter}`))],
];

describe.each(adapters)('%s', (_name, make) => {
  it('stores, lists, reads and deletes documents; list leaves out _default', async () => {
    const registry = make();
    await registry.put('_default', '{"command":"./deploy.sh"}', { secure: false });
    await registry.put('b-app', '{"gitUrl":"https://x/b"}', { secure: false });
    await registry.put('a-app', '{"gitUrl":"https://x/a"}', { secure: true });
    expect(await registry.list()).toEqual(['a-app', 'b-app']);
    expect(await registry.get('a-app')).toBe('{"gitUrl":"https://x/a"}');
    expect(await registry.get('missing')).toBeUndefined();
    expect(await registry.delete('b-app')).toBe(true);
    expect(await registry.delete('b-app')).toBe(false);
    expect(await registry.list()).toEqual(['a-app']);
  });

  it('layers _default under the project', async () => {
    const registry = make();
    await registry.put('_default', '{"command":"./deploy.sh","branches":["main"]}', { secure: false });
    await registry.put('demo', '{"gitUrl":"https://x/demo","branches":["release/*"]}', { secure: false });
    const config = await loadProjectConfig(registry, 'demo');
    expect(config).toMatchObject({
      gitUrl: 'https://x/demo',
      command: ['./deploy.sh'],
      branches: ['release/*'],
    });
  });

  it('works without a _default', async () => {
    const registry = make();
    await registry.put('demo', '{"gitUrl":"https://x/demo","command":"c"}', { secure: false });
    await expect(loadProjectConfig(registry, 'demo')).resolves.toMatchObject({ deployDir: '.' });
  });

  it('fails closed on a malformed _default, naming it', async () => {
    const registry = make();
    await registry.put('_default', '{"command": ', { secure: false });
    await registry.put('demo', '{"gitUrl":"https://x/demo","command":"c"}', { secure: false });
    const error = await loadProjectConfig(registry, 'demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `${registry.describe('_default')} is not valid JSON: line 1, column 13: Unexpected end of JSON input`,
    );
  });

  it('says which project is not registered', async () => {
    const registry = make();
    await expect(loadProjectConfig(registry, 'ghost')).rejects.toThrow(ProjectNotFoundError);
  });

  it('refuses traversal and reserved names before any read', async () => {
    const registry = make();
    let reads = 0;
    const counting: Registry = {
      describe: (k) => registry.describe(k),
      get: async (k) => {
        reads++;
        return registry.get(k);
      },
      put: (k, d, o) => registry.put(k, d, o),
      list: () => registry.list(),
      delete: (k) => registry.delete(k),
    };
    for (const name of ['../x', 'a/b', '_default', '.hidden']) {
      await expect(loadProjectConfig(counting, name)).rejects.toThrow(InvalidInputError);
    }
    expect(reads).toBe(0);
  });
});

describe('loadProjectConfig', () => {
  it('reports a failing _default read before a failing project read, whichever fails first', async () => {
    const failing: Registry = {
      describe: (k) => `/x/${k}`,
      get: (k) =>
        k === '_default'
          ? new Promise((_, reject) => setTimeout(() => reject(new RegistryError('defaults broke')), 20))
          : Promise.reject(new RegistryError('project broke')),
      put: async () => {},
      list: async () => [],
      delete: async () => false,
    };
    await expect(loadProjectConfig(failing, 'demo')).rejects.toThrow('defaults broke');
  });
});

describe('SsmRegistry specifics', () => {
  it('reads SecureString parameters decrypted, and stores secrets as SecureString', async () => {
    const registry = new SsmRegistry({ configPath: 'secure/iwomp', ssm });
    await ssm.send(
      new PutParameterCommand({
        Name: '/secure/iwomp/private',
        Type: 'SecureString',
        Value: '{"gitUrl":"https://x/p","command":"c","authToken":"very-secret-token"}',
      }),
    );
    const config = await loadProjectConfig(registry, 'private');
    expect(config.auth).toEqual({ kind: 'token', token: 'very-secret-token' });

    await registry.put('written', '{"authToken":"another-secret-1"}', { secure: true });
    const raw = await ssm.send(new GetParameterCommand({ Name: '/secure/iwomp/written' }));
    expect(raw.Parameter?.Type).toBe('SecureString');
  });

  it('wraps SSM failures in a RegistryError that names the parameter', async () => {
    const broken = new SsmRegistry({
      configPath: 'iwomp',
      ssm: new SSMClient({ ...moto.clientConfig, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }),
    });
    const error = await broken.get('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(/^cannot read \/iwomp\/demo from SSM: /);
  });
});

describe('FileRegistry specifics', () => {
  it('writes secret documents readable by the owner only', async () => {
    const registry = new FileRegistry(join(dir, 'modes'));
    await registry.put('s', '{}', { secure: true });
    await registry.put('p', '{}', { secure: false });
    expect(statSync(registry.describe('s')).mode & 0o777).toBe(0o600);
    expect(statSync(registry.describe('p')).mode & 0o777).toBe(0o644);
  });

  it('ignores temp and hidden files when listing', async () => {
    const registry = new FileRegistry(join(dir, 'hidden'));
    await registry.put('real', '{}', { secure: false });
    writeFileSync(join(registry.dir, '.real.abc.tmp'), '{');
    writeFileSync(join(registry.dir, 'notes.txt'), 'x');
    expect(await registry.list()).toEqual(['real']);
  });
});
