import type { Command, Option } from 'commander';

/** The shells `iwomp completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface Word {
  readonly name: string;
  readonly description: string;
}

interface FlagInfo {
  /** `--file` and `-f`. */
  readonly names: readonly string[];
  readonly takesValue: boolean;
  readonly description: string;
}

/** One command of the tree: where it is, what may follow it. */
interface CommandNode {
  /** `projects put`; empty for the program itself. */
  readonly path: string;
  readonly subcommands: readonly Word[];
  /** Its own options and those of its ancestors: commander accepts a parent's options after a subcommand. */
  readonly flags: readonly FlagInfo[];
  /** The fixed values of its first argument, if it has such a list (`completion <shell>`). */
  readonly choices: readonly string[];
}

/**
 * The completion script for `shell`, generated from the program's own command tree, so that a new
 * command or option is completed without anyone editing the script.
 */
export function completionScript(program: Command, shell: CompletionShell): string {
  const nodes = commandTree(program);
  const name = program.name();
  if (shell === 'bash') return bashScript(name, nodes);
  if (shell === 'zsh') return zshScript(name, nodes);
  return fishScript(name, nodes);
}

function commandTree(program: Command): CommandNode[] {
  const help = program.createHelp();
  const nodes: CommandNode[] = [];
  const visit = (command: Command, path: readonly string[], inherited: readonly FlagInfo[]) => {
    const flags = [...help.visibleOptions(command).map(flagInfo), ...inherited];
    const subcommands = help.visibleCommands(command);
    nodes.push({
      path: path.join(' '),
      subcommands: subcommands.map((c) => ({ name: c.name(), description: c.summary() || c.description() })),
      flags,
      choices: command.registeredArguments[0]?.argChoices ?? [],
    });
    // `-h, --help` belongs to every command (inheriting it would list it twice); `--version` only to the root.
    const passedOn = flags.filter((f) => !f.names.includes('--help') && !f.names.includes('--version'));
    // An alias (`jobs` for `deploys`) is walked like the name, and not offered: one word per command.
    for (const sub of subcommands) {
      for (const name of [sub.name(), ...sub.aliases()]) visit(sub, [...path, name], passedOn);
    }
  };
  visit(program, [], []);
  return nodes;
}

function flagInfo(option: Option): FlagInfo {
  return {
    names: [option.long, option.short].filter((n): n is string => n !== undefined),
    takesValue: option.required || option.optional,
    description: option.description,
  };
}

/** The words a node offers: subcommands when it has them, else the argument's choices; then its flags. */
function offered(node: CommandNode): { words: string[]; flags: string[] } {
  const words = node.subcommands.length > 0 ? node.subcommands.map((s) => s.name) : [...node.choices];
  return { words, flags: node.flags.flatMap((f) => f.names) };
}

/** A word inside single quotes, for bash, zsh and fish alike. */
function sq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function fishQuote(text: string): string {
  // fish has no '\'' trick: a backslash escapes a quote or a backslash inside single quotes.
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

const firstLine = (text: string) => text.split('\n')[0] ?? '';

/** Shell `case` arms: `'projects'|'projects put') return 0 ;;`, one line per list of patterns. */
function caseArm(patterns: readonly string[], body: string): string {
  return patterns.length === 0 ? '' : `    ${patterns.map(sq).join('|')}) ${body} ;;\n`;
}

/** The two helpers every script shares: is `path` a command, does `flag` take a value at `path`. */
function posixHelpers(prefix: string, nodes: readonly CommandNode[]): string {
  const commandPaths = nodes.filter((n) => n.path !== '').map((n) => n.path);
  const valueFlags = nodes.flatMap((n) =>
    n.flags.filter((f) => f.takesValue).flatMap((f) => f.names.map((flag) => `${n.path}|${flag}`)),
  );
  return (
    `${prefix}_is_command() {\n  case "$1" in\n${caseArm(commandPaths, 'return 0')}  esac\n  return 1\n}\n\n` +
    `${prefix}_takes_value() {\n  case "$1|$2" in\n${caseArm(valueFlags, 'return 0')}  esac\n  return 1\n}\n`
  );
}

/**
 * The loop both bash and zsh run over the words before the cursor: follows subcommands, skips
 * flags and the values of the flags that take one. Leaves `cmdpath` and `skip` (1 when the word
 * under the cursor is a flag's value). `cmdpath`, not `path`: zsh ties `path` to `PATH`.
 */
function walkWords(prefix: string, wordsArray: string, first: string, last: string): string {
  return `  local cmdpath='' word i skip=0
  for ((i = ${first}; i < ${last}; i++)); do
    word="\${${wordsArray}[i]}"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$word" in
      -*=*) continue ;;
      -*) ${prefix}_takes_value "$cmdpath" "$word" && skip=1; continue ;;
    esac
    if ${prefix}_is_command "\${cmdpath:+$cmdpath }$word"; then cmdpath="\${cmdpath:+$cmdpath }$word"; fi
  done
`;
}

function bashScript(name: string, nodes: readonly CommandNode[]): string {
  const fn = `_${name}_completion`;
  const arms = nodes
    .map((node) => {
      const { words, flags } = offered(node);
      return `    ${sq(node.path)}) words=${sq(words.join(' '))}; flags=${sq(flags.join(' '))} ;;\n`;
    })
    .join('');
  return `# ${name} completion for bash. Load it in the current shell:
#   source <(${name} completion bash)
# or for every shell: ${name} completion bash > ~/.local/share/bash-completion/completions/${name}

${posixHelpers(fn, nodes)}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words='' flags=''
${walkWords(fn, 'COMP_WORDS', '1', 'COMP_CWORD')}  # The value of a flag: let bash complete a file name (-o default).
  if [ "$skip" = 1 ]; then COMPREPLY=(); return 0; fi
  case "$cmdpath" in
${arms}  esac
  case "$cur" in
    -*) words="$flags" ;;
  esac
  # Plain words at a command without subcommands are its arguments: file names, again.
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -o default -F ${fn} ${name}
`;
}

function zshScript(name: string, nodes: readonly CommandNode[]): string {
  const fn = `_${name}`;
  const entry = (word: string, description: string) =>
    sq(`${word.replaceAll(':', '\\:')}:${firstLine(description)}`);
  const arms = nodes
    .map((node) => {
      const words =
        node.subcommands.length > 0
          ? node.subcommands.map((s) => entry(s.name, s.description))
          : node.choices.map((c) => entry(c, ''));
      const flags = node.flags.flatMap((f) => f.names.map((n) => entry(n, f.description)));
      return `    ${sq(node.path)}) candidates=(${words.join(' ')}); flags=(${flags.join(' ')}) ;;\n`;
    })
    .join('');
  return `#compdef ${name}
# ${name} completion for zsh. Load it after compinit:
#   source <(${name} completion zsh)
# or save it as _${name} in a directory of your $fpath.

${posixHelpers(fn, nodes)}
${fn}() {
  # \`words\` and \`CURRENT\` are zsh's own: the command line and the cursor's word.
  local -a candidates flags
${walkWords(fn, 'words', '2', 'CURRENT')}  if [ "$skip" = 1 ]; then _files; return; fi
  case "$cmdpath" in
${arms}  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t options 'option' flags
  elif (( \${#candidates} )); then
    _describe -t commands 'command' candidates
  else
    _files
  fi
}

if (( \${+functions[compdef]} )); then compdef ${fn} ${name}; fi
`;
}

function fishScript(name: string, nodes: readonly CommandNode[]): string {
  const fn = `__${name}`;
  const commandPaths = nodes.filter((n) => n.path !== '').map((n) => fishQuote(n.path));
  const valueFlags = nodes.flatMap((n) =>
    n.flags.filter((f) => f.takesValue).flatMap((f) => f.names.map((flag) => fishQuote(`${n.path}|${flag}`))),
  );
  const lines: string[] = [];
  for (const node of nodes) {
    const at = fishQuote(`${fn}_at ${fishQuote(node.path)}`);
    for (const sub of node.subcommands) {
      lines.push(
        `complete -c ${name} -f -n ${at} -a ${fishQuote(sub.name)} -d ${fishQuote(firstLine(sub.description))}`,
      );
    }
    for (const choice of node.choices) lines.push(`complete -c ${name} -f -n ${at} -a ${fishQuote(choice)}`);
    for (const flag of node.flags) {
      const names = flag.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`));
      lines.push(
        `complete -c ${name} -n ${at} ${names.join(' ')}${flag.takesValue ? ' -r' : ''} -d ${fishQuote(firstLine(flag.description))}`,
      );
    }
  }
  return `# ${name} completion for fish. Load it in the current shell:
#   ${name} completion fish | source
# or for every shell: ${name} completion fish > ~/.config/fish/completions/${name}.fish

function ${fn}_path --description 'the ${name} command path typed so far'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l skip 0
    for word in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $word
            case '-*=*'
                continue
            case '-*'
                if contains -- "$cmdpath|$word" ${valueFlags.join(' ')}
                    set skip 1
                end
                continue
        end
        set -l next (string trim -- "$cmdpath $word")
        if contains -- $next ${commandPaths.join(' ')}
            set cmdpath $next
        end
    end
    echo $cmdpath
end

function ${fn}_at --argument-names expected
    test (${fn}_path) = "$expected"
end

complete -c ${name} -e
${lines.join('\n')}
`;
}
