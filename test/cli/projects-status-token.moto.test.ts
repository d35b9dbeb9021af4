import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliExitCode } from '../../src/cli/exit-codes.js';
import { runCliInProcess } from '../support/cli.js';
import { type Moto, startMoto } from '../support/moto.js';

const STATUS_TOKEN = 'ghp-status-6b1d9e3f0a2c';

let moto: Moto;
let ssm: SSMClient;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient(moto.clientConfig);
  dir = mkdtempSync(join(tmpdir(), 'iwomp-cli-status-'));
});

afterAll(async () => {
  ssm?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(configPath: string, argv: string[], env: Record<string, string> = {}) {
  return runCliInProcess(['--config-path', configPath, ...argv], { env, cwd: dir, clients: { ssm } });
}

const put = ['projects', 'put', 'api', '--git-url', 'https://github.com/acme/api.git', '--command', 'make'];

describe('projects put: the commit status token', () => {
  it('comes from a named variable, is stored as a SecureString, and is never printed', async () => {
    // GIVEN the token in an environment variable
    // WHEN put names the variable, with the provider and API
    const run = await cli(
      'status-1',
      [
        ...put,
        '--status-token-env',
        'STATUS_TOKEN',
        '--status-provider',
        'github',
        '--status-api-url',
        'https://api.github.com/',
      ],
      { STATUS_TOKEN },
    );
    // THEN it is stored encrypted with the other keys, and neither put nor show prints it
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('stored api at /status-1/api (SecureString)\n');
    const stored = (await ssm.send(new GetParameterCommand({ Name: '/status-1/api', WithDecryption: true })))
      .Parameter;
    expect(stored?.Type).toBe('SecureString');
    expect(JSON.parse(stored?.Value ?? '')).toMatchObject({
      statusToken: STATUS_TOKEN,
      statusProvider: 'github',
      statusApiUrl: 'https://api.github.com/',
    });
    const show = await cli('status-1', ['projects', 'show', 'api', '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).document.statusToken).toBe('***');
    expect(run.stdout + run.stderr + show.stdout + show.stderr).not.toContain(STATUS_TOKEN);
  });

  it('is refused as a flag value, in one line that says what to use', async () => {
    // WHEN the token is typed on the command line
    const run = await cli('status-2', [...put, '--status-token', STATUS_TOKEN]);
    // THEN nothing is stored, and the line points to --status-token-env
    expect(run.code).toBe(CliExitCode.usage);
    expect(run.stderr).toBe(
      'iwomp: --status-token is refused: command lines are visible to other users and land in logs; use --status-token-env <VAR> or --file (and rotate the value you typed)\n',
    );
  });

  it('needs a provider on a host that is neither github.com nor gitlab.com', async () => {
    // WHEN the git host implies no provider
    const run = await cli(
      'status-3',
      [
        'projects',
        'put',
        'api',
        '--git-url',
        'https://git.example.com/acme/api.git',
        '--command',
        'make',
        '--status-token-env',
        'T',
      ],
      { T: STATUS_TOKEN },
    );
    // THEN one config line, and the token is not in it
    expect(run.code).toBe(CliExitCode.invalidInput);
    expect(run.stderr).toBe(
      "iwomp: project 'api': statusToken needs statusProvider (github or gitlab): the gitUrl host git.example.com is neither github.com nor gitlab.com\n",
    );
  });
});
