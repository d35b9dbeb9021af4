import { describe, expect, it } from 'vitest';
import { createIo, formatFailure } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { displayGitUrl } from '../../src/cli/project-input.js';
import { runCliInProcess } from '../support/cli.js';

describe('CLI conventions', () => {
  it.each([
    [[]],
    [['trigger']],
    [['projects']],
    [['projects', 'list']],
    [['projects', 'show']],
    [['projects', 'put']],
    [['projects', 'rm']],
    [['worker']],
    [['jobs']],
    [['jobs', 'list']],
    [['jobs', 'show']],
    [['jobs', 'logs']],
  ])('%j --help prints usage on stdout and exits 0', async (argv) => {
    const run = await runCliInProcess([...argv, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: iwomp/);
    expect(run.stderr).toBe('');
  });

  it('a usage error is one line on stderr with exit code 2', async () => {
    for (const argv of [
      ['nope'],
      ['trigger'],
      ['projects', 'put', 'x', '--bogus'],
      ['projects', 'list', 'extra'],
      ['jobs', 'show'],
      ['jobs', 'logs', 'x', '--bogus'],
    ]) {
      const run = await runCliInProcess(argv);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^iwomp: [^\n]+\n$/);
    }
  });

  it('colours a failure red on a terminal only, and never with NO_COLOR', async () => {
    const tty = { write: () => true, isTTY: true };
    const pipe = { write: () => true };
    expect(formatFailure(createIo(pipe, tty, {}), 'boom')).toBe('\u001b[31miwomp: boom\u001b[0m\n');
    expect(formatFailure(createIo(pipe, tty, { NO_COLOR: '1' }), 'boom')).toBe('iwomp: boom\n');
    expect(formatFailure(createIo(pipe, pipe, {}), 'boom')).toBe('iwomp: boom\n');

    let stderr = '';
    const code = await runCli(['projects', 'show', '../x'], {
      env: {},
      stdout: pipe,
      stderr: {
        isTTY: true,
        write: (s: string) => {
          stderr += s;
          return true;
        },
      },
    });
    expect(code).toBe(3);
    expect(stderr.startsWith('\u001b[31miwomp: invalid project name')).toBe(true);
  });

  it('an unexpected error is still one line', () => {
    const io = createIo({ write: () => true }, { write: () => true }, {});
    expect(formatFailure(io, 'first\nsecond')).toBe('iwomp: first\n');
  });

  it.each([
    ['https://github.com/acme/x.git', 'https://github.com/acme/x.git'],
    ['https://tok3nvalue@github.com/acme/x.git', 'https://github.com/acme/x.git'],
    ['https://user:pass@github.com/acme/x.git', 'https://github.com/acme/x.git'],
    ['ssh://git:pass@github.com/acme/x.git', 'ssh://git@github.com/acme/x.git'],
    ['ssh://git@github.com/acme/x.git', 'ssh://git@github.com/acme/x.git'],
    ['git@github.com:acme/x.git', 'git@github.com:acme/x.git'],
    ['user:secret@github.com:acme/x.git', 'github.com:acme/x.git'],
    ['https://[bad', '(invalid URL)'],
  ])('displayGitUrl(%s) shows %s', (url, shown) => {
    expect(displayGitUrl(url)).toBe(shown);
  });
});
