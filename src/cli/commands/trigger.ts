import type { Command } from 'commander';
import { IwompError } from '../../core/errors.js';
import { validateTriggerMessage } from '../../core/trigger-message.js';
import { loadProjectConfig } from '../../ports/registry.js';
import { resolveTarget } from '../build-source.js';
import { backendFor, type CliContext, wantsJson } from '../context.js';
import { awsErrorText, UsageError } from '../errors.js';
import { parseDuration } from '../follow-outcome.js';
import { writeJson } from '../io.js';
import { DEFAULT_STACK_NAME } from '../settings.js';

interface TriggerFlags {
  readonly commit?: string | false;
  readonly topicArn?: string;
  readonly stackName: string;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly logs?: boolean;
  readonly table?: string;
}

export function registerTrigger(program: Command, context: CliContext): void {
  program
    .command('trigger')
    .summary('ask the pipeline to deploy a branch of a project')
    .description(
      'Ask the pipeline to deploy a branch of a registered project. In AWS, publishes {"project","branch","commit"} to the pipeline topic and prints the SNS message id; the launcher decides. With --local, runs the launcher logic here and prints the local job id (exit 6 if rejected). --wait follows the deploy to its end and exits with its outcome, in AWS (reading the deploy record the launcher keeps under the message id) and locally alike.',
    )
    .argument('<project>', 'registered project name')
    .argument(
      '[branch]',
      'branch to deploy (default: GIT_BRANCH, else the branch CI or the git checkout builds)',
    )
    .option(
      '--commit <sha>',
      'commit to deploy (default: the one CI or the checkout builds, if it builds <branch>)',
    )
    .option('--no-commit', 'send no commit: the worker deploys whatever the branch head is')
    .option(
      '--topic-arn <arn>',
      'SNS topic (default: IWOMPINAWS_TOPIC_ARN, else the stack output JobTopicArn)',
    )
    .option('--stack-name <name>', 'stack whose JobTopicArn output names the topic', DEFAULT_STACK_NAME)
    .option(
      '--wait',
      'follow the deploy (each state and the elapsed time on stderr) and exit with its outcome: 0 succeeded, 6 rejected, 7 failed, 8 superseded, 9 --timeout passed, 10 cancelled',
    )
    .option(
      '--timeout <duration>',
      'with --wait: stop waiting after this long (90s, 30m, 1h30m), exit 9; the deploy goes on (default: no limit)',
    )
    .option('--logs', "with --wait in AWS: stream the worker's log too (local mode always does)")
    .option(
      '--table <name>',
      'with --wait in AWS: the deploy table (default: IWOMPINAWS_DEPLOY_TABLE, else the stack output DeployTableName)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  iwomp trigger demo main\n  iwomp trigger demo --topic-arn arn:aws:sns:eu-west-1:123456789012:iwomp-jobs --json\n  iwomp trigger demo main --wait --timeout 30m --logs\n  iwomp trigger demo main --local --wait',
    )
    .action(async (project: string, branchArg: string | undefined, flags: TriggerFlags, command: Command) => {
      const backend = backendFor(context, command);
      if (backend.kind === 'local' && flags.topicArn !== undefined) {
        throw new UsageError('--topic-arn has no meaning with --local');
      }
      if (backend.kind === 'local' && flags.table !== undefined) {
        throw new UsageError('--table has no meaning with --local');
      }
      for (const [flag, given] of [
        ['--timeout', flags.timeout !== undefined],
        ['--logs', flags.logs === true],
        ['--table', flags.table !== undefined],
      ] as const) {
        if (given && flags.wait !== true) throw new UsageError(`${flag} needs --wait`);
      }
      const timeoutMs = flags.timeout === undefined ? undefined : parseDuration('--timeout', flags.timeout);
      const target = await resolveTarget({
        project,
        ...(branchArg === undefined ? {} : { branch: branchArg }),
        ...(flags.commit === undefined ? {} : { commit: flags.commit }),
        env: context.env,
        cwd: context.cwd,
        projectGitUrl: async () => {
          try {
            return { gitUrl: (await loadProjectConfig(await backend.registry(), project)).gitUrl };
          } catch (error) {
            return { problem: error instanceof IwompError ? error.message : awsErrorText(error) };
          }
        },
        checkCiRepository: backend.kind === 'local',
      });
      // The same checks the launcher makes: a message it would refuse is never sent.
      const message = validateTriggerMessage({
        project,
        branch: target.branch,
        ...(target.commit === undefined ? {} : { commit: target.commit }),
      });
      const report = await (await backend.triggers()).trigger({
        message,
        wait: flags.wait === true,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        logs: flags.logs === true,
        ...(flags.table === undefined ? {} : { table: flags.table }),
        stackName: flags.stackName,
        // Said before the message leaves: a wrong commit is seen before a job is superseded for it.
        ...(target.note === undefined
          ? {}
          : { beforeSend: () => context.io.stderr.write(`${target.note}\n`) }),
        ...(flags.topicArn === undefined ? {} : { topicArn: flags.topicArn }),
      });
      if (wantsJson(command)) {
        writeJson(context.io, {
          ...report.json,
          ...(target.commitFrom === undefined ? {} : { commitFrom: target.commitFrom }),
        });
      } else {
        for (const line of report.lines) context.io.stdout.write(`${line}\n`);
      }
      if (report.exitCode !== undefined) context.setExitCode(report.exitCode);
    });
}
