import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import {
  holdsSecret,
  parseDeployDir,
  parseProjectDocument,
  resolveProjectConfig,
} from '../../src/core/project-config.js';

const parse = (doc: unknown) => parseProjectDocument(JSON.stringify(doc), '/iwomp-in-aws/demo');

describe('parseProjectDocument', () => {
  it('reads the seed keys', () => {
    expect(parse({ gitUrl: 'https://github.com/jkpl/cdk-demo', command: './deploy.sh' })).toEqual({
      gitUrl: 'https://github.com/jkpl/cdk-demo',
      command: './deploy.sh',
    });
  });

  it('refuses unknown keys by name, saying where', () => {
    expect(() => parse({ gitUrl: 'https://x/y', command: 'c', branchs: ['main'] })).toThrow(
      '/iwomp-in-aws/demo: unknown key branchs',
    );
  });

  it('refuses a document that is not JSON, or not an object', () => {
    expect(() => parseProjectDocument('{', '/p')).toThrow('/p is not valid JSON');
    expect(() => parseProjectDocument('[]', '/p')).toThrow(ConfigError);
  });

  it('refuses wrong types and empty values with the key path', () => {
    expect(() => parse({ command: ['ok', ''] })).toThrow(/command/);
    expect(() => parse({ branches: [] })).toThrow(/branches/);
    expect(() => parse({ gitUrl: 42 })).toThrow(/gitUrl/);
  });

  it('refuses secrets too short to redact', () => {
    expect(() => parse({ authToken: 'abc' })).toThrow(/authToken must be at least 8 characters/);
  });
});

describe('resolveProjectConfig', () => {
  it('layers project keys over _default and fills deployDir', () => {
    const config = resolveProjectConfig(
      // credentialHosts added for issue 12 item 17: unbound default credentials go to no host.
      parse({ command: './deploy.sh', authToken: 'default-token-1', credentialHosts: ['x'] }),
      parse({ gitUrl: 'https://x/y' }),
    );
    expect(config).toEqual({
      gitUrl: 'https://x/y',
      auth: { kind: 'token', token: 'default-token-1' },
      deployDir: '.',
      command: ['./deploy.sh'],
      // One deploy at a time, a newer waiting trigger of a branch replacing the older: #11.
      concurrency: 'supersede',
    });
  });

  it('takes argv-array commands as they are', () => {
    const config = resolveProjectConfig(
      undefined,
      parse({ gitUrl: 'https://x/y', command: ['npm', 'run', 'deploy', '--'] }),
    );
    expect(config.command).toEqual(['npm', 'run', 'deploy', '--']);
  });

  it('replaces the defaults auth method as a whole when the project sets one', () => {
    const config = resolveProjectConfig(
      parse({ authToken: 'default-token-1' }),
      parse({ gitUrl: 'https://x/y', command: 'c', basicUsername: 'ci', basicPassword: 'project-pass-1' }),
    );
    expect(config.auth).toEqual({ kind: 'basic', username: 'ci', password: 'project-pass-1' });
  });

  it('refuses two auth methods in one layer', () => {
    expect(() =>
      resolveProjectConfig(
        undefined,
        parse({
          gitUrl: 'https://x/y',
          command: 'c',
          authToken: 'token-1234',
          basicUsername: 'u',
          basicPassword: 'password1',
        }),
      ),
    ).toThrow('use at most one authentication method, got authToken and basicUsername/basicPassword');
  });

  it('refuses half an auth method', () => {
    expect(() =>
      resolveProjectConfig(undefined, parse({ gitUrl: 'u', command: 'c', basicUsername: 'u' })),
    ).toThrow('basicUsername and basicPassword must be set together');
    expect(() =>
      resolveProjectConfig(undefined, parse({ gitUrl: 'u', command: 'c', sshPrivateKey: 'k' })),
    ).toThrow(/host key must be pinned/);
  });

  it('requires gitUrl and command after layering', () => {
    expect(() => resolveProjectConfig(undefined, parse({ command: 'c' }))).toThrow('gitUrl is required');
    expect(() => resolveProjectConfig(parse({ gitUrl: 'u' }), parse({}))).toThrow('command is required');
  });
});

describe('resolveProjectConfig: sparse checkout', () => {
  const resolve = (doc: Record<string, unknown>) =>
    resolveProjectConfig(undefined, parse({ gitUrl: 'u', command: 'c', ...doc }));

  it('takes deployDir and sparsePaths, normalized and without repeats, when deployDir is a subdirectory', () => {
    // GIVEN a deployDir below the root and two shared directories, one of them deployDir again
    // WHEN the project resolves
    const config = resolve({ deployDir: 'infra/', sparsePaths: ['./libs//shared', 'infra'] });
    // THEN the sparse paths are deployDir first, then the others, each once
    expect(config.sparsePaths).toEqual(['infra', 'libs/shared']);
  });

  it('checks out the whole tree when deployDir is the root or sparseCheckout is false', () => {
    // GIVEN / WHEN a root deployDir, or a subdirectory with sparseCheckout turned off
    // THEN no sparse paths: the worker fetches every file
    expect(resolve({ sparsePaths: ['libs'] }).sparsePaths).toBeUndefined();
    expect(resolve({ deployDir: 'infra', sparseCheckout: false }).sparsePaths).toBeUndefined();
  });

  it('takes sparseCheckout from _default and lets the project override it', () => {
    // GIVEN defaults that turn sparse checkout off
    const defaults = parse({ sparseCheckout: false });
    // WHEN a project does not say / says otherwise
    // THEN it inherits / overrides the default
    expect(
      resolveProjectConfig(defaults, parse({ gitUrl: 'u', command: 'c', deployDir: 'infra' })).sparsePaths,
    ).toBeUndefined();
    expect(
      resolveProjectConfig(
        defaults,
        parse({ gitUrl: 'u', command: 'c', deployDir: 'infra', sparseCheckout: true }),
      ).sparsePaths,
    ).toEqual(['infra']);
  });

  it.each([['../x'], ['/etc'], ['a\\b'], ['a\nb'], ['.']])('refuses the sparsePaths entry %j', (path) => {
    // GIVEN / WHEN a path outside the repository, with a control character, or the root itself
    // THEN one ConfigError naming the key
    expect(() => resolve({ deployDir: 'infra', sparsePaths: [path] })).toThrow(/^sparsePaths entry /);
  });

  it('refuses sparse keys of the wrong type', () => {
    expect(() => parse({ sparsePaths: 'libs' })).toThrow(/sparsePaths/);
    expect(() => parse({ sparsePaths: [] })).toThrow(/sparsePaths/);
    expect(() => parse({ sparseCheckout: 'no' })).toThrow(/sparseCheckout/);
  });
});

describe('parseDeployDir', () => {
  it.each([
    ['.', '.'],
    ['infra', 'infra'],
    ['infra/', 'infra'],
    ['./infra//cdk', 'infra/cdk'],
  ])('normalizes %j to %j', (input, expected) => {
    expect(parseDeployDir(input)).toBe(expected);
  });

  it.each(['..', '../x', 'a/../../b', 'a/..', '/etc', 'a\\..\\b', 'a\0b'])('refuses %j', (value) => {
    expect(() => parseDeployDir(value)).toThrow(ConfigError);
  });
});

describe('holdsSecret', () => {
  it('is true for token, password and key, false otherwise', () => {
    expect(holdsSecret({ authToken: 'x' })).toBe(true);
    expect(holdsSecret({ basicPassword: 'x' })).toBe(true);
    expect(holdsSecret({ sshPrivateKey: 'x' })).toBe(true);
    expect(holdsSecret({ basicUsername: 'x', gitUrl: 'u', sshKnownHosts: 'h' })).toBe(false);
  });
});

describe('timeoutMinutes', () => {
  it('is a whole number of minutes from 1 to 2160, layered from _default like any key', () => {
    // GIVEN a default deadline and a project that sets its own
    const defaults = parse({ command: './deploy.sh', timeoutMinutes: 30 });
    // WHEN they are layered
    const own = resolveProjectConfig(defaults, parse({ gitUrl: 'https://x/y', timeoutMinutes: 2160 }));
    const inherited = resolveProjectConfig(defaults, parse({ gitUrl: 'https://x/y' }));
    const none = resolveProjectConfig(undefined, parse({ gitUrl: 'https://x/y', command: 'c' }));
    // THEN the project's wins, the default fills in, and no key means no deadline of the registry's
    expect(own.timeoutMinutes).toBe(2160);
    expect(inherited.timeoutMinutes).toBe(30);
    expect(none).not.toHaveProperty('timeoutMinutes');
  });

  it.each([0, -5, 2.5, 2161, '30'])('refuses %j with the key named', (value) => {
    expect(() => parse({ timeoutMinutes: value })).toThrow(/timeoutMinutes/);
  });
});

describe('_default credentials are bound to their hosts', () => {
  const token = { authToken: 'default-token-1' };
  const resolve = (defaults: Record<string, unknown>, project: Record<string, unknown>) =>
    resolveProjectConfig(parse(defaults), parse({ command: 'c', ...project }));

  it("go to the host of _default's own gitUrl", () => {
    // GIVEN defaults with a token and a gitUrl on github.com
    const defaults = { ...token, gitUrl: 'https://github.com/acme/base.git' };
    // WHEN a project on the same host (any case, scp or https) / THEN it inherits the token
    for (const gitUrl of ['https://GitHub.com/acme/app.git', 'https://github.com:443/acme/app.git']) {
      const config = resolve(defaults, { gitUrl });
      expect(config.auth).toEqual({ kind: 'token', token: 'default-token-1' });
      expect(config.droppedDefaultCredentials).toBeUndefined();
    }
    expect(resolve(defaults, {}).auth.kind).toBe('token');
  });

  it('are dropped, with one line saying so, for a project on another host', () => {
    // GIVEN defaults bound to github.com
    const defaults = { ...token, gitUrl: 'https://github.com/acme/base.git' };
    // WHEN a project names another host / THEN it gets no credentials, and a note
    const config = resolve(defaults, { gitUrl: 'https://evil.example/steal.git' });
    expect(config.auth).toEqual({ kind: 'none' });
    expect(config.droppedDefaultCredentials).toBe(
      "_default's credentials are not sent to host evil.example: they are bound to github.com",
    );
    // Look-alikes of the bound host are other hosts
    for (const gitUrl of [
      'https://github.com.evil.example/x.git',
      'https://evilgithub.com/x.git',
      'https://127.0.0.1/x.git',
    ]) {
      expect(resolve(defaults, { gitUrl }).auth).toEqual({ kind: 'none' });
    }
  });

  it('follow credentialHosts when _default names them', () => {
    const defaults = { ...token, credentialHosts: ['github.com', 'Git.Example.org'] };
    expect(resolve(defaults, { gitUrl: 'https://git.example.org/a.git' }).auth.kind).toBe('token');
    expect(resolve(defaults, { gitUrl: 'git@github.com:acme/a.git' }).droppedDefaultCredentials).toBe(
      undefined,
    );
    expect(resolve(defaults, { gitUrl: 'https://gitlab.com/a.git' }).auth).toEqual({ kind: 'none' });
  });

  it('go nowhere when _default names no host, and say how to bind them', () => {
    const config = resolve(
      { basicUsername: 'ci', basicPassword: 'default-pass-1' },
      { gitUrl: 'https://a.example/r.git' },
    );
    expect(config.auth).toEqual({ kind: 'none' });
    expect(config.droppedDefaultCredentials).toMatch(/bound to no host \(set credentialHosts in _default\)$/);
  });

  it('apply to ssh keys too', () => {
    const defaults = {
      sshPrivateKey: 'key-material-1',
      sshKnownHosts: 'github.com ssh-ed25519 AAAA',
      credentialHosts: ['github.com'],
    };
    expect(resolve(defaults, { gitUrl: 'git@github.com:a/b.git' }).auth.kind).toBe('ssh');
    expect(resolve(defaults, { gitUrl: 'git@evil.example:a/b.git' }).auth).toEqual({ kind: 'none' });
  });

  it("a project's own credentials are its own: no binding applies", () => {
    const config = resolve(
      { ...token, credentialHosts: ['github.com'] },
      { gitUrl: 'https://a.example/r.git', authToken: 'project-token-1' },
    );
    expect(config.auth).toEqual({ kind: 'token', token: 'project-token-1' });
    expect(config.droppedDefaultCredentials).toBeUndefined();
  });

  it('a project cannot widen the binding', () => {
    expect(() =>
      resolve(
        { ...token, credentialHosts: ['github.com'] },
        { gitUrl: 'https://a.example/r.git', credentialHosts: ['a.example'] },
      ),
    ).toThrow(/credentialHosts belongs in _default/);
  });

  it.each(['https://github.com', 'github.com:22', 'user@github.com', '', 'github.com.'])(
    'refuses credentialHosts entry %j',
    (host) => {
      expect(() => parse({ credentialHosts: [host] })).toThrow(/credentialHosts\.0: must be a host name/);
    },
  );
});

describe('concurrency', () => {
  it('is supersede unless the registry says queue, and refuses anything else by name', () => {
    // GIVEN documents with and without the key
    const base = { gitUrl: 'https://x/y', command: './deploy.sh' };
    // WHEN they are resolved
    // THEN the default is supersede, queue is kept, and a typo is a one-line config error
    expect(resolveProjectConfig(undefined, parse(base)).concurrency).toBe('supersede');
    expect(resolveProjectConfig(parse({ concurrency: 'queue' }), parse(base)).concurrency).toBe('queue');
    expect(() => parse({ ...base, concurrency: 'parallel' })).toThrow(/concurrency/);
  });
});
