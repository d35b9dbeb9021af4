import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCliInProcess, runCliProcess } from '../support/cli.js';
import { type Moto, startMoto } from '../support/moto.js';

const TOKEN = 'ghp-tok-8c1f4e2a9b7d3605';
const PASSWORD = 'pw-5d2e8a1c4b9f7306';

let moto: Moto;
let ssm: SSMClient;
let dir: string;
let pathCounter = 0;

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  dir = mkdtempSync(join(tmpdir(), 'iwomp-cli-projects-'));
});

afterAll(async () => {
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh registry root per test, so tests cannot see each other's projects. */
function freshConfigPath(): string {
  pathCounter += 1;
  return `cli-test-${pathCounter}`;
}

function cli(
  configPath: string,
  argv: string[],
  extra: { env?: Record<string, string>; stdin?: string } = {},
) {
  return runCliInProcess(['--config-path', configPath, ...argv], {
    env: extra.env ?? {},
    cwd: dir,
    clients: { ssm },
    ...(extra.stdin === undefined ? {} : { stdin: extra.stdin }),
  });
}

async function parameter(name: string) {
  return (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter;
}

/** Every parameter in moto, with type and value: what "nothing was written" is checked against. */
async function snapshot(): Promise<string[]> {
  const out = await ssm.send(
    new GetParametersByPathCommand({ Path: '/', Recursive: true, WithDecryption: true }),
  );
  return (out.Parameters ?? []).map((p) => `${p.Name} ${p.Type} ${p.Value}`).sort();
}

function writeDoc(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

describe('projects against SSM (moto)', () => {
  it('round trip: put stores String or SecureString by content, list and show never print a secret, rm removes', async () => {
    // GIVEN an empty registry root
    const root = freshConfigPath();

    // WHEN one project without and one with a secret are put
    const plain = await cli(root, [
      'projects',
      'put',
      'web',
      '--git-url',
      'https://github.com/acme/web.git',
      '--command',
      './deploy.sh',
      '--branch',
      'main',
      '--branch',
      'release/*',
    ]);
    const secretFile = writeDoc('infra.json', {
      gitUrl: 'https://gitlab.example.com/acme/infra.git',
      command: ['npx', 'cdk', 'deploy', '--all'],
      basicUsername: 'deployer',
      basicPassword: PASSWORD,
    });
    const secret = await cli(root, ['projects', 'put', 'infra', '--file', secretFile]);

    // THEN both are stored, with the type their content calls for
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toBe(`stored web at /${root}/web\n`);
    expect(secret).toMatchObject({ code: 0, stderr: '' });
    expect(secret.stdout).toBe(`stored infra at /${root}/infra (SecureString)\n`);
    const web = await parameter(`/${root}/web`);
    expect(web?.Type).toBe('String');
    expect(JSON.parse(web?.Value ?? '')).toEqual({
      gitUrl: 'https://github.com/acme/web.git',
      command: './deploy.sh',
      branches: ['main', 'release/*'],
    });
    const infra = await parameter(`/${root}/infra`);
    expect(infra?.Type).toBe('SecureString');
    expect(JSON.parse(infra?.Value ?? '').basicPassword).toBe(PASSWORD);

    // AND list shows names, git URLs and branches, without secrets
    const list = await cli(root, ['projects', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      [
        'NAME   GIT URL                                    BRANCHES',
        'infra  https://gitlab.example.com/acme/infra.git  (any)',
        'web    https://github.com/acme/web.git            main, release/*',
        '',
      ].join('\n'),
    );
    const listJson = await cli(root, ['--json', 'projects', 'list']);
    expect(JSON.parse(listJson.stdout)).toEqual([
      { name: 'infra', gitUrl: 'https://gitlab.example.com/acme/infra.git' },
      { name: 'web', gitUrl: 'https://github.com/acme/web.git', branches: ['main', 'release/*'] },
    ]);
    for (const out of [list.stdout, listJson.stdout]) expect(out).not.toContain(PASSWORD);

    // AND show prints the document with the secret replaced, in both formats
    const show = await cli(root, ['projects', 'show', 'infra']);
    const showJson = await cli(root, ['projects', 'show', 'infra', '--json']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`/${root}/infra (SecureString)`);
    expect(show.stdout).toContain('"basicPassword": "***"');
    expect(JSON.parse(showJson.stdout)).toEqual({
      name: 'infra',
      location: `/${root}/infra`,
      secure: true,
      document: {
        gitUrl: 'https://gitlab.example.com/acme/infra.git',
        command: ['npx', 'cdk', 'deploy', '--all'],
        basicUsername: 'deployer',
        basicPassword: '***',
      },
    });
    for (const out of [show, showJson]) {
      expect(out.stdout + out.stderr).not.toContain(PASSWORD);
      // The encoded form git would send must not appear either.
      expect(out.stdout).not.toContain(Buffer.from(`deployer:${PASSWORD}`).toString('base64'));
    }

    // AND rm removes the parameter; a second rm says it is not there
    const rm = await cli(root, ['projects', 'rm', 'infra']);
    expect(rm).toMatchObject({ code: 0, stdout: `removed infra (/${root}/infra)\n` });
    await expect(parameter(`/${root}/infra`)).rejects.toBeInstanceOf(ParameterNotFound);
    const again = await cli(root, ['projects', 'rm', 'infra']);
    expect(again.code).toBe(CliExitCode.notFound);
    expect(again.stderr).toBe(`iwomp: project 'infra' is not registered (no /${root}/infra)\n`);
    expect((await cli(root, ['projects', 'list', '--json'])).stdout).not.toContain('infra');
  });

  it('takes a token from a named environment variable, stores it as a SecureString, and show hides it', async () => {
    const root = freshConfigPath();
    const put = await cli(
      root,
      [
        'projects',
        'put',
        'api',
        '--git-url',
        'https://github.com/acme/api.git',
        '--command',
        'make',
        '--auth-token-env',
        'DEPLOY_TOKEN',
      ],
      { env: { DEPLOY_TOKEN: TOKEN } },
    );
    expect(put.code).toBe(0);
    const stored = await parameter(`/${root}/api`);
    expect(stored?.Type).toBe('SecureString');
    expect(JSON.parse(stored?.Value ?? '').authToken).toBe(TOKEN);
    expect(put.stdout + put.stderr).not.toContain(TOKEN);
  });

  it('show blanks a secret that is repeated under a key that is not secret', async () => {
    const root = freshConfigPath();
    const file = writeDoc('leaky.json', {
      gitUrl: 'https://github.com/acme/leaky.git',
      authToken: TOKEN,
      command: ['./deploy.sh', `--token=${TOKEN}`],
    });
    expect((await cli(root, ['projects', 'put', 'leaky', '--file', file])).code).toBe(0);
    for (const argv of [
      ['projects', 'show', 'leaky'],
      ['projects', 'show', 'leaky', '--json'],
    ]) {
      const show = await cli(root, argv);
      expect(show.code).toBe(0);
      expect(show.stdout).not.toContain(TOKEN);
      expect(show.stdout).toContain('--token=***');
    }
  });

  it("checks a document together with the registry's _default before writing", async () => {
    // GIVEN a _default that supplies the command
    const root = freshConfigPath();
    await ssm.send(
      new PutParameterCommand({
        Name: `/${root}/_default`,
        Type: 'String',
        Value: JSON.stringify({ command: './deploy.sh', branches: ['main'] }),
      }),
    );
    // WHEN a project relies on it THEN it is accepted
    const ok = await cli(root, ['projects', 'put', 'svc', '--git-url', 'https://github.com/acme/svc.git']);
    expect(ok.code).toBe(0);
    expect(JSON.parse((await parameter(`/${root}/svc`))?.Value ?? '')).toEqual({
      gitUrl: 'https://github.com/acme/svc.git',
    });

    // WHEN the _default is broken THEN nothing more can be put, and the error names _default
    await ssm.send(
      new PutParameterCommand({
        Name: `/${root}/_default`,
        Type: 'String',
        Value: '{"comand": "x"}',
        Overwrite: true,
      }),
    );
    const before = await snapshot();
    const refused = await cli(root, [
      'projects',
      'put',
      'svc2',
      '--git-url',
      'https://github.com/acme/svc2.git',
    ]);
    expect(refused.code).toBe(CliExitCode.invalidInput);
    expect(refused.stderr).toBe(`iwomp: project 'svc2': /${root}/_default: unknown key comand\n`);
    expect(await snapshot()).toEqual(before);
  });

  it('--dry-run checks and reports but writes nothing', async () => {
    const root = freshConfigPath();
    const run = await cli(root, [
      'projects',
      'put',
      'dry',
      '--git-url',
      'https://github.com/acme/dry.git',
      '--command',
      'x',
      '--dry-run',
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'dry', written: false, secure: false });
    await expect(parameter(`/${root}/dry`)).rejects.toBeInstanceOf(ParameterNotFound);
  });

  describe('hostile input is refused before anything is written', () => {
    const valid = ['--git-url', 'https://github.com/acme/x.git', '--command', './deploy.sh'];
    const cases: Array<{ name: string; argv: string[]; doc?: unknown; code: number; error: RegExp }> = [
      {
        name: 'path traversal name',
        argv: ['../evil', ...valid],
        code: 3,
        error: /invalid project name "\.\.\/evil"/,
      },
      { name: 'nested name', argv: ['a/b', ...valid], code: 3, error: /invalid project name "a\/b"/ },
      {
        name: 'the defaults key',
        argv: ['_default', ...valid],
        code: 3,
        error: /invalid project name "_default"/,
      },
      {
        name: 'option-like name',
        argv: [...valid, '--', '-rf'],
        code: 3,
        error: /invalid project name "-rf"/,
      },
      {
        name: 'name with a newline',
        argv: ['a\nb', ...valid],
        code: 3,
        error: /invalid project name "a\\nb"/,
      },
      { name: 'overlong name', argv: ['x'.repeat(129), ...valid], code: 3, error: /invalid project name/ },
      {
        name: 'credentials in gitUrl',
        argv: ['x', '--git-url', 'https://deployer:hunter2hunter2@github.com/acme/x.git', '--command', 'x'],
        code: 3,
        error: /gitUrl must not embed credentials/,
      },
      {
        name: 'token as user name in gitUrl',
        argv: ['x', '--git-url', `https://${TOKEN}@github.com/acme/x.git`, '--command', 'x'],
        code: 3,
        error: /gitUrl must not embed credentials/,
      },
      {
        name: 'remote helper transport',
        argv: ['x', '--git-url', 'ext::sh -c touch% /tmp/pwned', '--command', 'x'],
        code: 3,
        error: /gitUrl/,
      },
      {
        name: 'option-like gitUrl',
        argv: ['x', '--git-url=--upload-pack=touch /tmp/pwned', '--command', 'x'],
        code: 3,
        error: /gitUrl/,
      },
      {
        name: 'local path in AWS',
        argv: ['x', '--git-url', 'file:///etc', '--command', 'x'],
        code: 3,
        error: /allowed only in local mode/,
      },
      {
        name: 'plain http',
        argv: ['x', '--git-url', 'http://github.com/acme/x.git', '--command', 'x'],
        code: 3,
        error: /plain http/,
      },
      {
        name: 'deployDir escaping the clone',
        argv: ['x', ...valid, '--deploy-dir', '../..'],
        code: 3,
        error: /deployDir "\.\.\/\.\." must not contain/,
      },
      {
        name: 'missing command',
        argv: ['x', '--git-url', 'https://github.com/acme/x.git'],
        code: 3,
        error: /command is required/,
      },
      { name: 'nothing given', argv: ['x'], code: 2, error: /nothing to store/ },
      {
        name: 'unknown key',
        argv: ['x', '--file'],
        doc: { gitUrl: 'https://a.b/c.git', command: 'x', buildspec: 'y' },
        code: 3,
        error: /unknown key buildspec/,
      },
      {
        name: 'short token',
        argv: ['x', '--file'],
        doc: { gitUrl: 'https://a.b/c.git', command: 'x', authToken: 'abc' },
        code: 3,
        error: /authToken must be at least 8/,
      },
      {
        name: 'two auth methods',
        argv: ['x', '--file'],
        doc: {
          gitUrl: 'https://a.b/c.git',
          command: 'x',
          authToken: TOKEN,
          basicUsername: 'u',
          basicPassword: PASSWORD,
        },
        code: 3,
        error: /at most one authentication method/,
      },
      { name: 'not JSON', argv: ['x', '--file'], doc: '{gitUrl:', code: 3, error: /is not valid JSON/ },
      { name: 'a JSON array', argv: ['x', '--file'], doc: '[]', code: 3, error: /expected object/ },
      {
        name: 'a secret as a flag',
        argv: ['x', ...valid, '--auth-token', TOKEN],
        code: 2,
        error: /--auth-token is refused/,
      },
      {
        name: 'an unset secret variable',
        argv: ['x', ...valid, '--auth-token-env', 'NOT_SET'],
        code: 3,
        error: /NOT_SET: is not set/,
      },
    ];

    it.each(cases)('$name', async ({ argv, doc, code, error }) => {
      const root = freshConfigPath();
      const before = await snapshot();
      const args = doc === undefined ? argv : [...argv, writeDoc('hostile.json', doc)];
      const run = await cli(root, ['projects', 'put', ...args]);
      expect(run.code).toBe(code);
      expect(run.stderr).toMatch(error);
      // One line, and never the secret it was given.
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).not.toContain(TOKEN);
      expect(run.stdout).toBe('');
      expect(await snapshot()).toEqual(before);
    });
  });

  it('the built CLI reaches SSM through AWS_ENDPOINT_URL and the default credential chain', async () => {
    const root = freshConfigPath();
    // The SDK's notice about Node 20 is not what this test is about.
    const env = { ...moto.env, CONFIGPATH: root, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const put = await runCliProcess(['projects', 'put', 'ep', '--file', '-'], {
      env,
      stdin: JSON.stringify({ gitUrl: 'https://github.com/acme/ep.git', command: 'make', authToken: TOKEN }),
    });
    expect(put).toMatchObject({ code: 0, stdout: `stored ep at /${root}/ep (SecureString)\n`, stderr: '' });
    expect((await parameter(`/${root}/ep`))?.Type).toBe('SecureString');
    const list = await runCliProcess(['projects', 'list', '--json'], { env });
    expect(JSON.parse(list.stdout)).toEqual([{ name: 'ep', gitUrl: 'https://github.com/acme/ep.git' }]);
  });
});
