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
    // GIVEN _default and two projects, one of them secure
    const registry = make();
    await registry.put('_default', '{"command":"./deploy.sh"}', { secure: false });
    await registry.put('b-app', '{"gitUrl":"https://x/b"}', { secure: false });
    await registry.put('a-app', '{"gitUrl":"https://x/a"}', { secure: true });
    // WHEN / THEN list leaves out _default, and get reads a document or nothing
    expect(await registry.list()).toEqual(['a-app', 'b-app']);
    expect(await registry.get('a-app')).toBe('{"gitUrl":"https://x/a"}');
    expect(await registry.get('missing')).toBeUndefined();
    // AND delete removes a document once
    expect(await registry.delete('b-app')).toBe(true);
    expect(await registry.delete('b-app')).toBe(false);
    expect(await registry.list()).toEqual(['a-app']);
  });

  it('layers _default under the project', async () => {
    // GIVEN a _default and a project that overrides its branches
    const registry = make();
    await registry.put('_default', '{"command":"./deploy.sh","branches":["main"]}', { secure: false });
    await registry.put('demo', '{"gitUrl":"https://x/demo","branches":["release/*"]}', { secure: false });
    // WHEN the project's config is loaded
    const config = await loadProjectConfig(registry, 'demo');
    // THEN the project's keys win over the defaults
    expect(config).toMatchObject({
      gitUrl: 'https://x/demo',
      command: ['./deploy.sh'],
      branches: ['release/*'],
    });
  });

  it('works without a _default', async () => {
    // GIVEN a project and no _default
    const registry = make();
    await registry.put('demo', '{"gitUrl":"https://x/demo","command":"c"}', { secure: false });
    // WHEN / THEN its config loads, with the default deployDir
    await expect(loadProjectConfig(registry, 'demo')).resolves.toMatchObject({ deployDir: '.' });
  });

  it('fails closed on a malformed _default, naming it', async () => {
    // GIVEN a malformed _default under a valid project
    const registry = make();
    await registry.put('_default', '{"command": ', { secure: false });
    await registry.put('demo', '{"gitUrl":"https://x/demo","command":"c"}', { secure: false });
    // WHEN the project's config is loaded
    const error = await loadProjectConfig(registry, 'demo').catch((e: unknown) => e);
    // THEN a ConfigError names _default and where its JSON broke
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `${registry.describe('_default')} is not valid JSON: line 1, column 13: Unexpected end of JSON input`,
    );
  });

  it('says which project is not registered', async () => {
    // GIVEN an empty registry
    const registry = make();
    // WHEN / THEN loading an unknown project throws ProjectNotFoundError
    await expect(loadProjectConfig(registry, 'ghost')).rejects.toThrow(ProjectNotFoundError);
  });

  it('refuses traversal and reserved names before any read', async () => {
    // GIVEN a registry that counts its reads
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
    // WHEN / THEN loading a traversal or reserved name throws InvalidInputError
    for (const name of ['../x', 'a/b', '_default', '.hidden']) {
      await expect(loadProjectConfig(counting, name)).rejects.toThrow(InvalidInputError);
    }
    // AND the registry was never read
    expect(reads).toBe(0);
  });
});

describe('loadProjectConfig', () => {
  it('reports a failing _default read before a failing project read, whichever fails first', async () => {
    // GIVEN a registry whose _default read fails later than its project read
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
    // WHEN / THEN loading the project reports the _default failure
    await expect(loadProjectConfig(failing, 'demo')).rejects.toThrow('defaults broke');
  });
});

describe('SsmRegistry specifics', () => {
  it('reads SecureString parameters decrypted, and stores secrets as SecureString', async () => {
    // GIVEN a SecureString project document put straight into SSM
    const registry = new SsmRegistry({ configPath: 'secure/iwomp', ssm });
    await ssm.send(
      new PutParameterCommand({
        Name: '/secure/iwomp/private',
        Type: 'SecureString',
        Value: '{"gitUrl":"https://x/p","command":"c","authToken":"very-secret-token"}',
      }),
    );
    // WHEN its config is loaded
    const config = await loadProjectConfig(registry, 'private');
    // THEN the token was read decrypted
    expect(config.auth).toEqual({ kind: 'token', token: 'very-secret-token' });

    // AND a secure put stores a SecureString
    await registry.put('written', '{"authToken":"another-secret-1"}', { secure: true });
    const raw = await ssm.send(new GetParameterCommand({ Name: '/secure/iwomp/written' }));
    expect(raw.Parameter?.Type).toBe('SecureString');
  });

  it('wraps SSM failures in a RegistryError that names the parameter', async () => {
    // GIVEN an SSM registry whose endpoint refuses connections
    const broken = new SsmRegistry({
      configPath: 'iwomp',
      ssm: new SSMClient({ ...moto.clientConfig, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }),
    });
    // WHEN a document is read
    const error = await broken.get('demo').catch((e: unknown) => e);
    // THEN a RegistryError names the parameter
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(/^cannot read \/iwomp\/demo from SSM: /);
  });
});

describe('FileRegistry specifics', () => {
  it('writes secret documents readable by the owner only', async () => {
    // GIVEN a folder registry
    const registry = new FileRegistry(join(dir, 'modes'));
    // WHEN a secret and a plain document are written
    await registry.put('s', '{}', { secure: true });
    await registry.put('p', '{}', { secure: false });
    // THEN the secret is 0600 and the plain one 0644
    expect(statSync(registry.describe('s')).mode & 0o777).toBe(0o600);
    expect(statSync(registry.describe('p')).mode & 0o777).toBe(0o644);
  });

  it('ignores temp and hidden files when listing', async () => {
    // GIVEN a folder registry with one document, a temp file and a non-JSON file
    const registry = new FileRegistry(join(dir, 'hidden'));
    await registry.put('real', '{}', { secure: false });
    writeFileSync(join(registry.dir, '.real.abc.tmp'), '{');
    writeFileSync(join(registry.dir, 'notes.txt'), 'x');
    // WHEN / THEN list names the document only
    expect(await registry.list()).toEqual(['real']);
  });
});
