import type { Command } from 'commander';
import { isFinished, type JobRecord, jobElapsedMs } from '../../core/job-record.js';
import { parseProjectName } from '../../core/names.js';
import type { JobTracker } from '../../ports/job-tracker.js';
import { backendFor, type CliContext, wantsJson } from '../context.js';
import { deployView, printable, type ShownRecord } from '../deploy-view.js';
import { UsageError } from '../errors.js';
import { formatTable, writeJson } from '../io.js';
import { followDisplay } from '../job-progress.js';
import { DEFAULT_STACK_NAME } from '../settings.js';

/** What `list` shows when `--limit` is not given. */
export const DEFAULT_LIST_LIMIT = 50;

interface DeploysFlags {
  readonly table?: string;
  readonly stackName: string;
}

/** The deploys of the backend the command line names: a tracker, and the words its messages use. */
interface Deploys {
  readonly tracker: JobTracker<ShownRecord>;
  /** `job` locally (local mode's word), `deploy` in AWS. */
  readonly noun: 'job' | 'deploy';
  /** How to name the command in hints: `iwomp jobs` or `iwomp deploys`. */
  readonly command: string;
}

export function registerDeploys(program: Command, context: CliContext): void {
  const deploys = program
    .command('deploys')
    .alias('jobs')
    .summary('list deploys, show one, print or follow its log, cancel one')
    .description(
      "The deploy records, newest first. In AWS: the deploy table (stack output DeployTableName) and the worker's CloudWatch log group (WorkerLogGroupName). With --local: local mode's jobs in <state-dir>/jobs (IWOMP_STATE_DIR, default .iwomp). `iwomp jobs` is the former name: the same commands, always on local mode's jobs, as before.",
    )
    .option(
      '--table <name>',
      'deploy table in AWS (default: IWOMPINAWS_DEPLOY_TABLE, else the stack output DeployTableName)',
    )
    .option(
      '--stack-name <name>',
      'stack whose outputs name the deploy table and the worker log group',
      DEFAULT_STACK_NAME,
    );

  const open = async (command: Command): Promise<Deploys> => {
    // `iwomp jobs` read local mode's jobs before deploys were kept in AWS, and still does.
    const asJobs = deploys.parent?.args[0] === 'jobs';
    const backend = backendFor(context, command, asJobs ? { local: true } : {});
    const flags = command.optsWithGlobals<DeploysFlags>();
    if (backend.kind === 'local' && flags.table !== undefined) {
      throw new UsageError('--table has no meaning with --local');
    }
    const tracker = (await backend.jobs({
      stackName: flags.stackName,
      ...(flags.table === undefined ? {} : { table: flags.table }),
    })) as JobTracker<ShownRecord>;
    return backend.kind === 'local'
      ? { tracker, noun: 'job', command: asJobs ? 'iwomp jobs' : 'iwomp deploys --local' }
      : { tracker, noun: 'deploy', command: 'iwomp deploys' };
  };

  deploys
    .command('list')
    .description('list deploys, newest first: id, project, branch, state, exit code, created, duration')
    .option('--project <name>', 'only the deploys of this project')
    .option('--limit <n>', `at most this many, the newest (default: ${DEFAULT_LIST_LIMIT})`)
    .action(async (flags: { project?: string; limit?: string }, command: Command) => {
      const project = flags.project === undefined ? undefined : parseProjectName(flags.project);
      const limit = flags.limit === undefined ? DEFAULT_LIST_LIMIT : parseLimit(flags.limit);
      const { tracker, noun } = await open(command);
      const { jobs: rows, broken } = await tracker.list({
        limit,
        ...(project === undefined ? {} : { project }),
      });
      // A damaged record is reported, not allowed to hide every other one.
      for (const b of broken) context.io.stderr.write(`warning: skipped ${b.file}: ${b.problem}\n`);
      if (wantsJson(command)) {
        return writeJson(
          context.io,
          rows.map((r) => deployView(r, tracker.logLocation(r.id))),
        );
      }
      if (rows.length === 0) {
        context.io.stderr.write(
          `no ${noun}s${project === undefined ? '' : ` of project '${project}'`} in ${tracker.location}\n`,
        );
        return;
      }
      context.io.stdout.write(
        formatTable(
          ['ID', 'PROJECT', 'BRANCH', 'STATE', 'EXIT', 'CREATED', 'DURATION'],
          rows.map((j) => [
            j.id,
            j.project,
            j.branch,
            printable(stateText(j)),
            j.exitCode === undefined ? '-' : String(j.exitCode),
            shortTime(j.createdAt),
            seconds(jobElapsedMs(j, Date.now())),
          ]),
        ),
      );
    });

  deploys
    .command('show')
    .description("show one deploy's record: state, exit code, reason, times, build, log")
    .argument('<id>', 'deploy id (the message id iwomp trigger printed; locally the job id)')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { tracker } = await open(command);
      const record = await tracker.get(id);
      const log = tracker.logLocation(record.id);
      if (wantsJson(command)) return writeJson(context.io, deployView(record, log));
      context.io.stdout.write(formatRecord(record, log));
    });

  deploys
    .command('logs')
    .description(
      "print a deploy's log: the worker's and the deploy command's output. --follow streams it until the deploy ends",
    )
    .argument('<id>', 'deploy id')
    .option(
      '-f, --follow',
      'keep printing as the deploy writes, until it ends (Ctrl-C stops following, not the deploy)',
    )
    .addHelpText(
      'after',
      "\nExits 0 whatever the deploy's end (see iwomp deploys show, or iwomp trigger --wait for its outcome).\nExamples:\n  iwomp deploys logs 0b5c2b1e-6f7a-4c1d-9b8e-2a1f3c4d5e6f --follow\n  iwomp jobs logs demo-20260101T120000-3fa9c1",
    )
    .action(async (id: string, flags: { follow?: boolean }, command: Command) => {
      const { tracker, noun } = await open(command);
      const json = wantsJson(command);
      // The record first: an unknown id is "not found", not an empty log.
      let record = await tracker.get(id);
      let log = '';
      if (flags.follow === true) {
        const hooks = json
          ? {
              onOutput: (text: string) => {
                log += text;
              },
            }
          : followDisplay({ log: context.io.stdout }).hooks;
        record = await tracker.follow(record.id, hooks);
        if (!json) context.io.stderr.write(`» ${endLine(noun, record)}\n`);
      } else {
        log = await tracker.readLog(record.id);
        if (!json) context.io.stdout.write(log);
        if (!json && log === '') {
          context.io.stderr.write(`${noun} ${record.id} is ${record.state}: no log yet, or none\n`);
        }
      }
      if (json) {
        writeJson(context.io, {
          id: record.id,
          state: record.state,
          ...(record.exitCode === undefined ? {} : { exitCode: record.exitCode }),
          log,
        });
      }
    });

  registerCancel(deploys, open, context);
}

/** `deploys cancel`: stop a deploy and wait until it has ended. */
function registerCancel(
  deploys: Command,
  open: (command: Command) => Promise<Deploys>,
  context: CliContext,
): void {
  deploys
    .command('cancel')
    .description(
      'stop a deploy and wait until it has ended. Locally: a waiting job never starts, a running one gets SIGTERM. In AWS: its CodeBuild build is stopped (one still waiting for its turn cannot be cancelled from the CLI yet)',
    )
    .argument('<id>', 'deploy id')
    .addHelpText(
      'after',
      '\nExits 0 once the deploy has ended, whether it was cancelled or had ended already.',
    )
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { tracker, noun, command: name } = await open(command);
      const before = await tracker.get(id);
      const record = await tracker.cancel(before.id, `cancelled with ${name} cancel (pid ${process.pid})`);
      if (wantsJson(command))
        return writeJson(context.io, deployView(record, tracker.logLocation(record.id)));
      const what = !isFinished(record.state)
        ? `asked to stop ${noun} ${record.id}; it is still ${record.state}: see ${name} show ${record.id}`
        : before.state !== record.state && record.state === 'cancelled'
          ? `cancelled ${noun} ${record.id} (it was ${before.state})`
          : `${noun} ${record.id} had already ended: ${record.state}`;
      context.io.stdout.write(`${what}\n`);
    });
}

function parseLimit(value: string): number {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1))
    throw new UsageError(`--limit: expected a whole number from 1, got ${JSON.stringify(value)}`);
  return n;
}

function stateText(record: JobRecord): string {
  return record.state === 'running' && record.phase ? `running: ${record.phase}` : record.state;
}

function formatRecord(record: ShownRecord, logLocation: string): string {
  const state = stateText(record);
  const rows: [string, string | undefined][] = [
    ['id', record.id],
    ['project', record.project],
    ['branch', record.branch],
    ['commit', record.commit ?? '(branch head)'],
    [
      'deployed',
      record.deployedCommit !== undefined && record.deployedCommit !== record.commit
        ? record.deployedCommit
        : undefined,
    ],
    ['state', record.exitCode === undefined ? state : `${state} (exit ${record.exitCode})`],
    ['error', record.error],
    ['created', record.createdAt],
    ['started', record.startedAt],
    ['finished', record.finishedAt],
    ['duration', seconds(jobElapsedMs(record, Date.now()))],
    ['build', record.buildId],
    ['runner pid', record.runnerPid === undefined ? undefined : String(record.runnerPid)],
    ['worker pid', record.workerPid === undefined ? undefined : String(record.workerPid)],
    ['log', logLocation === '' ? '(none yet)' : logLocation],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== undefined)
    .map(([key, value]) => `${`${key}:`.padEnd(12)}${printable(value)}\n`)
    .join('');
}

function endLine(noun: string, record: JobRecord): string {
  const exit = record.exitCode === undefined ? '' : ` (exit ${record.exitCode})`;
  const error = record.error === undefined ? '' : `: ${printable(record.error)}`;
  return `${noun} ${record.id} ${record.state}${exit}${error}`;
}

/** `2026-01-01T12:00:00.123Z` → `2026-01-01 12:00:00Z`: the listing's width matters more than milliseconds. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
