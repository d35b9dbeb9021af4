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
    // GIVEN a command from the table
    // WHEN it is run with --help
    const run = await runCliInProcess([...argv, '--help']);
    // THEN usage is on stdout, nothing on stderr, and it exits 0
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: iwomp/);
    expect(run.stderr).toBe('');
  });

  it('a usage error is one line on stderr with exit code 2', async () => {
    // GIVEN unknown commands, missing arguments and unknown options
    for (const argv of [
      ['nope'],
      ['trigger'],
      ['projects', 'put', 'x', '--bogus'],
      ['projects', 'list', 'extra'],
      ['jobs', 'show'],
      ['jobs', 'logs', 'x', '--bogus'],
    ]) {
      // WHEN each is run
      const run = await runCliInProcess(argv);
      // THEN it exits 2 with one iwomp: line on stderr
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^iwomp: [^\n]+\n$/);
    }
  });

  it('colours a failure red on a terminal only, and never with NO_COLOR', async () => {
    // GIVEN a terminal and a pipe as output streams
    const tty = { write: () => true, isTTY: true };
    const pipe = { write: () => true };
    // WHEN / THEN a failure is red only on a terminal, and never with NO_COLOR
    expect(formatFailure(createIo(pipe, tty, {}), 'boom')).toBe('\u001b[31miwomp: boom\u001b[0m\n');
    expect(formatFailure(createIo(pipe, tty, { NO_COLOR: '1' }), 'boom')).toBe('iwomp: boom\n');
    expect(formatFailure(createIo(pipe, pipe, {}), 'boom')).toBe('iwomp: boom\n');

    // AND the CLI itself colours a failure written to a terminal stderr
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
    // GIVEN an io on plain pipes
    const io = createIo({ write: () => true }, { write: () => true }, {});
    // WHEN / THEN a multi-line message is cut to its first line
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
    // GIVEN a git URL from the table
    // WHEN / THEN it is shown without its credentials
    expect(displayGitUrl(url)).toBe(shown);
  });
});
