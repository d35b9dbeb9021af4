import { describe, expect, it } from 'vitest';
import { parseGitUrl } from '../../src/core/git-url.js';
import { Redactor } from '../../src/core/redact.js';
import { commandEnvironment } from '../../src/worker/command-env.js';
import { gitEnvironment } from '../../src/worker/git-env.js';

const HTTPS = parseGitUrl('https://git.example.com/app.git');
const SSH = parseGitUrl('ssh://git@git.example.com/app.git');

/** git's command-line config as the environment gives it: `key=value` in order. */
function gitConfig(env: NodeJS.ProcessEnv): string[] {
  const count = Number(env.GIT_CONFIG_COUNT);
  return Array.from(
    { length: count },
    (_, i) => `${env[`GIT_CONFIG_KEY_${i}`]}=${env[`GIT_CONFIG_VALUE_${i}`]}`,
  );
}

describe('gitEnvironment', () => {
  it("drops every inherited GIT_* variable and SSH_ASKPASS, and keeps the rest of the caller's", () => {
    // GIVEN an environment as inside a git hook, with an askpass helper
    const inherited = {
      PATH: '/usr/bin',
      HOME: '/home/ci',
      GIT_DIR: '/elsewhere/.git',
      GIT_WORK_TREE: '/elsewhere',
      GIT_SSH: '/evil/ssh',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'core.sshCommand',
      GIT_CONFIG_VALUE_0: 'evil',
      SSH_ASKPASS: '/evil/askpass',
    };
    // WHEN git's environment is made from it
    const env = gitEnvironment(inherited, HTTPS, { kind: 'none' }, 'main');
    // THEN none of git's own variables survive, only the worker's config
    expect(env.PATH).toBe('/usr/bin');
    expect(env.HOME).toBe('/home/ci');
    for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_SSH', 'SSH_ASKPASS'])
      expect(env[key]).toBeUndefined();
    expect(gitConfig(env)).not.toContain('core.sshCommand=evil');
    expect(env.GIT_SSH_COMMAND).toBeUndefined();
  });

  it("allows only the remote's own transport, starts HEAD on the branch, and never prompts", () => {
    // GIVEN an https remote
    // WHEN git's environment is made
    const env = gitEnvironment({}, HTTPS, { kind: 'none' }, 'release/1.0');
    // THEN every other protocol is refused, and git can never ask a question
    expect(gitConfig(env)).toEqual([
      'protocol.allow=never',
      'protocol.https.allow=always',
      'init.defaultBranch=release/1.0',
      'advice.detachedHead=false',
      'checkout.workers=0',
      'http.followRedirects=false',
      'http.lowSpeedLimit=1000',
      'http.lowSpeedTime=60',
    ]);
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
    expect(env.GCM_INTERACTIVE).toBe('never');
  });

  it('sends a token as a bearer header and basic credentials base64-encoded, in the environment only', () => {
    // GIVEN token and basic credentials
    // WHEN git's environment is made for each
    const token = gitEnvironment({}, HTTPS, { kind: 'token', token: 'tok-12345678' }, 'main');
    const basic = gitEnvironment({}, HTTPS, { kind: 'basic', username: 'ci', password: 'pa55word!' }, 'main');
    // THEN each is one extra header
    expect(gitConfig(token)).toContain('http.extraHeader=Authorization: Bearer tok-12345678');
    expect(gitConfig(basic)).toContain(
      `http.extraHeader=Authorization: Basic ${Buffer.from('ci:pa55word!').toString('base64')}`,
    );
    expect(gitConfig(token).filter((c) => c.startsWith('http.extraHeader='))).toHaveLength(1);
  });

  it('pins ssh to the given key and known hosts: no agent, no user config, no prompt, no new host', () => {
    // GIVEN an ssh remote and credential files whose path holds a quote
    const files = { keyFile: "/tmp/job's/id", knownHostsFile: '/tmp/job/known_hosts' };
    // WHEN git's environment is made
    const env = gitEnvironment({}, SSH, { kind: 'ssh', privateKey: 'k', knownHosts: 'h' }, 'main', files);
    // THEN ssh reads only those files, checks the host strictly, and fails rather than asks
    expect(env.GIT_SSH_COMMAND).toBe(
      [
        'ssh',
        '-F /dev/null',
        '-o BatchMode=yes',
        '-o IdentitiesOnly=yes',
        '-o StrictHostKeyChecking=yes',
        '-o GlobalKnownHostsFile=/dev/null',
        "-o UserKnownHostsFile='/tmp/job/known_hosts'",
        `-i '/tmp/job'\\''s/id'`,
      ].join(' '),
    );
    expect(gitConfig(env)).toContain('protocol.ssh.allow=always');
  });
});

describe('commandEnvironment', () => {
  it("passes the worker's environment without git's config or any variable holding a secret, plus the job", () => {
    // GIVEN an inherited environment with git config and a variable that holds a registry secret
    const redactor = new Redactor(['tok-12345678']);
    const inherited = {
      PATH: '/usr/bin',
      AWS_REGION: 'eu-west-1',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'user.name',
      GIT_CONFIG_VALUE_0: 'x',
      HEADER: 'Bearer tok-12345678',
      IWOMP_PROJECT: 'spoofed',
    };
    // WHEN the command's environment is made
    const env = commandEnvironment(inherited, redactor, {
      project: 'app',
      branch: 'main',
      commit: 'c'.repeat(40),
    });
    // THEN only the harmless variables and the job's own remain
    expect(env).toEqual({
      PATH: '/usr/bin',
      AWS_REGION: 'eu-west-1',
      IWOMP_PROJECT: 'app',
      IWOMP_BRANCH: 'main',
      IWOMP_COMMIT: 'c'.repeat(40),
    });
  });
});
