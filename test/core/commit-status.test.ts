import { describe, expect, it } from 'vitest';
import {
  type CommitStatusSetting,
  commitStatusRequest,
  MAX_DESCRIPTION,
  parseStatusApiUrl,
  statusRepository,
} from '../../src/core/commit-status.js';
import { ConfigError } from '../../src/core/errors.js';
import { holdsSecret, parseProjectDocument, resolveProjectConfig } from '../../src/core/project-config.js';
import { projectSecrets, Redactor } from '../../src/core/redact.js';

const parse = (doc: unknown) => parseProjectDocument(JSON.stringify(doc), '/iwomp-in-aws/demo');
const TOKEN = 'status-token-3f9e1c';
const SHA = 'a'.repeat(40);

/** The one-line error a resolve throws, or undefined. */
function resolveError(defaults: unknown, project: unknown): string | undefined {
  try {
    resolveProjectConfig(defaults === undefined ? undefined : parse(defaults), parse(project));
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

describe('commit status registry keys', () => {
  it('take provider, API and repository from a github.com gitUrl, https or ssh', () => {
    // GIVEN a status token on github.com projects
    for (const gitUrl of [
      'https://github.com/acme/app.git',
      'git@github.com:acme/app.git',
      'ssh://git@github.com/acme/app',
    ]) {
      // WHEN resolved
      const config = resolveProjectConfig(undefined, parse({ gitUrl, command: 'c', statusToken: TOKEN }));
      // THEN GitHub's public API, owner/repo without .git
      expect(config.commitStatus).toEqual({
        provider: 'github',
        apiUrl: 'https://api.github.com',
        token: TOKEN,
        repository: 'acme/app',
      });
    }
  });

  it("take GitLab's API on the git host, and the full group path", () => {
    // GIVEN a gitlab.com project in a subgroup, and a self-hosted one named gitlab
    const hosted = resolveProjectConfig(
      undefined,
      parse({ gitUrl: 'https://gitlab.com/acme/infra/app.git', command: 'c', statusToken: TOKEN }),
    );
    const own = resolveProjectConfig(
      undefined,
      parse({
        gitUrl: 'git@git.example.com:acme/app.git',
        command: 'c',
        statusToken: TOKEN,
        statusProvider: 'gitlab',
      }),
    );
    // THEN https://<host>/api/v4, and the path as GitLab's project id
    expect(hosted.commitStatus).toMatchObject({
      provider: 'gitlab',
      apiUrl: 'https://gitlab.com/api/v4',
      repository: 'acme/infra/app',
    });
    expect(own.commitStatus).toMatchObject({ provider: 'gitlab', apiUrl: 'https://git.example.com/api/v4' });
  });

  it('take statusApiUrl without its trailing slash, and statusProvider/statusApiUrl from _default', () => {
    // GIVEN a GitHub Enterprise API named in _default
    const config = resolveProjectConfig(
      parse({ statusProvider: 'github', statusApiUrl: 'https://ghe.example.com/api/v3/' }),
      parse({ gitUrl: 'https://ghe.example.com/acme/app.git', command: 'c', statusToken: TOKEN }),
    );
    // THEN the project's token goes to that API
    expect(config.commitStatus).toMatchObject({
      apiUrl: 'https://ghe.example.com/api/v3',
      repository: 'acme/app',
    });
  });

  it('do nothing without a statusToken', () => {
    // GIVEN a provider and an API but no token
    const config = resolveProjectConfig(
      undefined,
      parse({ gitUrl: 'https://github.com/acme/app', command: 'c', statusProvider: 'github' }),
    );
    // THEN no status is set
    expect(config.commitStatus).toBeUndefined();
  });

  it('refuse each mistake in one line', () => {
    const base = { gitUrl: 'https://git.example.com/acme/app.git', command: 'c', statusToken: TOKEN };
    // A host that implies no provider
    expect(resolveError(undefined, base)).toBe(
      'statusToken needs statusProvider (github or gitlab): the gitUrl host git.example.com is neither github.com nor gitlab.com',
    );
    // A token in _default: a project would choose where it is used
    expect(resolveError({ statusToken: TOKEN }, { ...base, statusProvider: 'github' })).toBe(
      '_default must not hold statusToken: a project would choose which repository it sets statuses on; give each project its own',
    );
    // GitHub wants owner/repo exactly
    expect(resolveError(undefined, { ...base, gitUrl: 'https://github.com/acme/infra/app.git' })).toBe(
      'statusProvider github needs a gitUrl path owner/repo, got "acme/infra/app"',
    );
    // A local repository has no host to report to
    expect(resolveError(undefined, { ...base, gitUrl: '/srv/git/app.git', statusProvider: 'github' })).toBe(
      'statusToken needs a gitUrl on a git host (https:// or ssh), not a local path',
    );
    // A path segment that would change the API path
    expect(
      resolveError(undefined, {
        ...base,
        gitUrl: 'https://github.com/acme/a%2F..',
        statusProvider: 'github',
      }),
    ).toBe(
      `statusToken: the gitUrl path "acme/a%2F.." has the segment "a%2F.."; use letters, digits, '.', '_' and '-'`,
    );
  });

  it('refuse a bad statusProvider, statusApiUrl or short statusToken when the document is read', () => {
    const base = { gitUrl: 'https://github.com/acme/app', command: 'c' };
    expect(() => parse({ ...base, statusProvider: 'bitbucket' })).toThrow(
      /^\/iwomp-in-aws\/demo: statusProvider: /,
    );
    expect(() => parse({ ...base, statusToken: 'short' })).toThrow(
      '/iwomp-in-aws/demo: statusToken: statusToken must be at least 8 characters (shorter values cannot be redacted reliably)',
    );
    expect(() => parse({ ...base, statusApiUrl: 'http://api.example.com' })).toThrow(
      '/iwomp-in-aws/demo: statusApiUrl: "http://api.example.com" must be https:// (http:// only on a loopback address)',
    );
    expect(() => parse({ ...base, statusApiUrl: 'https://user:pw@api.example.com' })).toThrow(
      /statusApiUrl: "https:\/\/user:pw@api.example.com" must not embed credentials/,
    );
    expect(() => parse({ ...base, statusApiUrl: 'https://api.example.com/?x=1' })).toThrow(
      /must not have a query or fragment/,
    );
  });

  it('keep the token a secret: stored encrypted, and in the list every redactor gets', () => {
    // GIVEN a document whose only secret is the status token
    const doc = parse({ gitUrl: 'https://github.com/acme/app', command: 'c', statusToken: TOKEN });
    // THEN it is stored as a secret, and redacted with the git credentials
    expect(holdsSecret(doc)).toBe(true);
    expect(projectSecrets(resolveProjectConfig(undefined, doc))).toEqual([TOKEN]);
  });
});

describe('statusApiUrl', () => {
  it('allows plain http on loopback only, as fetch reads the host', () => {
    expect(parseStatusApiUrl('http://127.0.0.1:8080/api/v3/')).toBe('http://127.0.0.1:8080/api/v3');
    expect(parseStatusApiUrl('http://[::1]:9/')).toBe('http://[::1]:9');
    expect(parseStatusApiUrl('http://localhost/api')).toBe('http://localhost/api');
    expect(() => parseStatusApiUrl('http://127.0.0.1.example.com/')).toThrow(/must be https/);
    expect(() => parseStatusApiUrl('ftp://127.0.0.1/')).toThrow(/must be https/);
    expect(() => parseStatusApiUrl('https://a.example\\@b.example/')).toThrow(/backslash/);
  });
});

describe('statusRepository', () => {
  it('reads the path after the host, for scp-like and URL forms', () => {
    expect(statusRepository('gitlab', 'deploy@git.example.com:acme/infra/app.git')).toBe('acme/infra/app');
    expect(statusRepository('github', 'https://github.com:443/acme/app/')).toBe('acme/app');
  });
});

describe('commitStatusRequest', () => {
  const github: CommitStatusSetting = {
    provider: 'github',
    apiUrl: 'https://api.github.com',
    token: TOKEN,
    repository: 'acme/app',
  };
  const gitlab: CommitStatusSetting = {
    provider: 'gitlab',
    apiUrl: 'https://gitlab.example.com/api/v4',
    token: TOKEN,
    repository: 'acme/infra/app',
  };
  const redactor = new Redactor([TOKEN]);

  it("is GitHub's statuses call, with its headers and field names", () => {
    const request = commitStatusRequest(
      github,
      {
        project: 'demo',
        commit: SHA,
        state: 'error',
        description: 'clone failed',
        targetUrl: 'https://x/build',
      },
      redactor,
    );
    expect(request).toEqual({
      method: 'POST',
      url: `https://api.github.com/repos/acme/app/statuses/${SHA}`,
      headers: {
        Accept: 'application/vnd.github+json',
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/json',
        'User-Agent': 'iwomp-in-aws',
        'X-GitHub-Api-Version': '2022-11-28',
      },
      body: '{"state":"error","target_url":"https://x/build","description":"clone failed","context":"iwomp/demo"}',
    });
  });

  it("is GitLab's, with PRIVATE-TOKEN, its states and the encoded project path", () => {
    const states = (['pending', 'success', 'failure', 'error'] as const).map(
      (state) =>
        JSON.parse(
          commitStatusRequest(gitlab, { project: 'demo', commit: SHA, state, description: 'd' }, redactor)
            .body,
        ).state,
    );
    expect(states).toEqual(['running', 'success', 'failed', 'failed']);
    const request = commitStatusRequest(
      gitlab,
      { project: 'demo', commit: SHA, state: 'success', description: 'd' },
      redactor,
    );
    expect(request.url).toBe(`https://gitlab.example.com/api/v4/projects/acme%2Finfra%2Fapp/statuses/${SHA}`);
    expect(request.headers).toEqual({
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'PRIVATE-TOKEN': TOKEN,
      'User-Agent': 'iwomp-in-aws',
    });
    expect(JSON.parse(request.body)).toEqual({ state: 'success', description: 'd', name: 'iwomp/demo' });
  });

  it('redacts, then cuts the description to one line of 140 characters', () => {
    // GIVEN a long, multi-line reason that ends with the token
    const reason = `line one\nline two ${'x'.repeat(200)} ${TOKEN}`;
    const short = `failed with ${TOKEN}\n`;
    // WHEN each becomes a description
    const cut = JSON.parse(
      commitStatusRequest(
        github,
        { project: 'p', commit: SHA, state: 'failure', description: reason },
        redactor,
      ).body,
    );
    const whole = JSON.parse(
      commitStatusRequest(
        github,
        { project: 'p', commit: SHA, state: 'failure', description: short },
        redactor,
      ).body,
    );
    // THEN one line, at most 140 characters, never the token
    expect([...cut.description]).toHaveLength(MAX_DESCRIPTION);
    expect(cut.description).toMatch(/^line one line two x+…$/);
    expect(whole.description).toBe('failed with ***');
  });

  it('refuses anything but a full commit id in the URL path', () => {
    expect(() =>
      commitStatusRequest(
        github,
        { project: 'p', commit: '../../x', state: 'success', description: '' },
        redactor,
      ),
    ).toThrow(/needs the checked-out commit/);
  });
});
