import { Argument, type Command } from 'commander';
import { COMPLETION_SHELLS, type CompletionShell, completionScript } from '../completion.js';
import type { CliContext } from '../context.js';

export function registerCompletion(program: Command, context: CliContext): void {
  program
    .command('completion')
    .summary('print a shell completion script (bash, zsh, fish)')
    .description('Print a script that completes iwomp commands and options in bash, zsh or fish.')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(iwomp completion bash)      # in ~/.bashrc\n  source <(iwomp completion zsh)       # in ~/.zshrc, after compinit\n  iwomp completion fish | source       # in ~/.config/fish/config.fish',
    )
    .action((shell: CompletionShell) => {
      // The root, not the `completion` command: the script covers the whole tree.
      context.io.stdout.write(completionScript(program, shell));
    });
}
