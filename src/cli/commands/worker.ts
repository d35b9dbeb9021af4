import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerWorker(program: Command, context: CliContext): void {
  program
    .command('worker')
    .summary('run one deploy job (what CodeBuild runs; same program as iwomp-worker)')
    .description(
      'Run one deploy job from the environment, exactly as iwomp-worker does: PROJECTNAME, GITBRANCH, GITCOMMIT, CONFIGPATH, IWOMP_REGISTRY, IWOMP_LOCAL, IWOMP_WORKDIR.\n' +
        "Exits with the worker's codes (80-85) or the deploy command's status.",
    )
    .action(async () => {
      context.setExitCode(await context.workerMain({ ...context.env }));
    });
}
