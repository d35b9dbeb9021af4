import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../support/cli.js';

const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

let dir: string;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iwomp-completion-'));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const run = await runCliInProcess(['completion', shell]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    scripts[shell] = join(dir, `iwomp.${shell}`);
    writeFileSync(scripts[shell], run.stdout);
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help', () => {
  it('projects put --help prints one example per line, under an Examples: heading', async () => {
    // WHEN
    const run = await runCliInProcess(['projects', 'put', '--help']);
    // THEN
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      '\nExamples:\n' +
        '  iwomp projects put demo --git-url https://github.com/me/infra.git --command ./deploy.sh --branch main\n' +
        '  GH_TOKEN=... iwomp projects put demo --file demo.json --auth-token-env GH_TOKEN\n' +
        '  iwomp projects put demo --file - < demo.json\n',
    );
  });

  it.each([[['trigger']], [['projects', 'put']], [['jobs', 'logs']]])(
    '%j --help lists the global options --local, --json and --config-path',
    async (argv) => {
      const run = await runCliInProcess([...argv, '--help']);
      expect(run.code).toBe(0);
      const global = run.stdout.slice(run.stdout.indexOf('\nGlobal Options:\n'));
      expect(global).toMatch(/^Global Options:$/m);
      for (const flag of ['--json', '--local', '--config-path <path>'])
        expect(global).toContain(`  ${flag} `);
    },
  );

  it('an unknown command gets a "did you mean", on the one error line', async () => {
    const run = await runCliInProcess(['trigerr', 'demo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("iwomp: unknown command 'trigerr' (Did you mean trigger?)\n");
  });
});

/** Runs the bash completion function as bash does on <Tab>, for the words given (the last is the cursor's). */
function bashComplete(...words: string[]): string[] {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _iwomp_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '-c', script, 'bash', scripts.bash ?? '', ...words], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((w) => w !== '');
}

describe('iwomp completion', () => {
  it('refuses a shell it has no script for, naming the choices', async () => {
    const run = await runCliInProcess(['completion', 'tcsh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^iwomp: .*'tcsh'.*bash, zsh, fish/);
  });

  it('bash: registers itself for iwomp, falling back to file names', () => {
    const run = spawnSync(
      'bash',
      ['--norc', '-c', `source "$1"; complete -p iwomp`, 'bash', scripts.bash ?? ''],
      {
        encoding: 'utf8',
      },
    );
    expect(run.stdout).toBe('complete -o default -F _iwomp_completion iwomp\n');
  });

  it('bash: completes commands, subcommands, options (global ones too) and argument choices', () => {
    expect(bashComplete('iwomp', '')).toEqual([
      'trigger',
      'projects',
      'deploys',
      'worker',
      'completion',
      'help',
    ]);
    expect(bashComplete('iwomp', 'pro')).toEqual(['projects']);
    expect(bashComplete('iwomp', 'projects', '')).toEqual(['list', 'show', 'put', 'rm', 'help']);
    // A global option before the subcommand does not stop the walk down the tree.
    expect(bashComplete('iwomp', '--local', 'jobs', 'l')).toEqual(['list', 'logs']);
    // An alias (jobs for deploys) is walked like the name, but not offered as a second word.
    expect(bashComplete('iwomp', 'deploys', 'l')).toEqual(['list', 'logs']);
    expect(bashComplete('iwomp', 'deploys', 'list', '--li')).toEqual(['--limit']);
    expect(bashComplete('iwomp', 'j')).toEqual([]);
    // The value of --topic-arn is skipped, not taken for a command.
    expect(bashComplete('iwomp', 'trigger', 'demo', '--topic-arn', 'x', '--st')).toEqual(['--stack-name']);
    expect(bashComplete('iwomp', 'projects', 'put', 'demo', '--git')).toEqual(['--git-url']);
    expect(bashComplete('iwomp', 'projects', 'put', '--lo')).toEqual(['--local']);
    expect(bashComplete('iwomp', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
    // After a flag that takes a value, nothing is offered: bash completes a file name (-o default).
    expect(bashComplete('iwomp', 'projects', 'put', '--file', '')).toEqual([]);
  });

  it.skipIf(!has('zsh'))('zsh: offers the same words, with their descriptions', () => {
    // _describe and _files exist only inside a completion widget: stand-ins print what they get.
    const script = `source "$1"; shift
_describe() { print -rl -- "\${(@P)\${@[-1]}}"; }
_files() { print -r -- FILES; }
words=("$@"); CURRENT=$#; _iwomp`;
    const zsh = (...words: string[]) =>
      spawnSync('zsh', ['-f', '-c', script, 'zsh', scripts.zsh ?? '', ...words], { encoding: 'utf8' });
    expect(zsh('iwomp', 'projects', '').stdout).toContain('rm:remove a project from the registry\n');
    expect(zsh('iwomp', 'jobs', 'logs', '--f').stdout).toContain('--follow:');
    expect(zsh('iwomp', 'projects', 'put', '--file', '').stdout).toBe('FILES\n');
    expect(zsh('iwomp', 'completion', '').stdout).toBe('bash:\nzsh:\nfish:\n');
  });

  it.skipIf(!has('fish'))('fish: completes through its own engine (complete -C)', () => {
    const fish = (line: string) =>
      spawnSync(
        'fish',
        ['--no-config', '-c', `source $argv[1]; complete -C $argv[2]`, scripts.fish ?? '', line],
        {
          encoding: 'utf8',
        },
      ).stdout;
    expect(fish('iwomp projects ')).toContain('rm\tremove a project from the registry\n');
    expect(fish('iwomp --local jobs l')).toBe(
      'list\tlist deploys, newest first: id, project, branch, state, exit code, created, duration\n' +
        "logs\tprint a deploy's log: the worker's and the deploy command's output. --follow streams it until the deploy ends\n",
    );
    expect(fish('iwomp projects put --git')).toMatch(/^--git-url\t/);
    expect(fish('iwomp completion ')).toBe('bash\nfish\nzsh\n');
  });
});
