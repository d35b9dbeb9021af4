import { type Command, Option } from 'commander';
import { ConfigError, ProjectNotFoundError } from '../../core/errors.js';
import { parseProjectName } from '../../core/names.js';
import {
  holdsSecret,
  type ProjectDocument,
  parseProjectDocument,
  resolveProjectConfig,
} from '../../core/project-config.js';
import { projectSecrets, Redactor } from '../../core/redact.js';
import { loadDefaults, type Registry } from '../../ports/registry.js';
import type { Backend } from '../backend.js';
import { backendFor, type CliContext, wantsJson } from '../context.js';
import { UsageError } from '../errors.js';
import { formatTable, writeJson } from '../io.js';
import {
  checkProjectDocument,
  configErrorFor,
  displayGitUrl,
  type ProjectFlags,
  readProjectInput,
  redactDocument,
} from '../project-input.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function registerProjects(program: Command, context: CliContext): void {
  const projects = program
    .command('projects')
    .summary('list, show, register and remove projects in the registry')
    .description(
      'Manage the project registry: SSM parameters /<config-path>/<project> in AWS, <state-dir>/registry/<project>.json with --local, or IWOMP_REGISTRY=file:<dir>.',
    );

  projects
    .command('list')
    .description('list registered projects: name, git URL (without credentials), allowed branches')
    .action(async (_flags: unknown, command: Command) => {
      const registry = await backendFor(context, command).registry();
      const rows = await listProjects(registry);
      if (wantsJson(command)) return writeJson(context.io, rows);
      if (rows.length === 0) {
        context.io.stderr.write(`no projects registered in ${registry.describe('*')}\n`);
        return;
      }
      context.io.stdout.write(
        formatTable(
          ['NAME', 'GIT URL', 'BRANCHES'],
          rows.map((r) => [
            r.name,
            r.problem === undefined ? r.gitUrl : `(invalid: ${r.problem})`,
            r.branches === undefined ? '(any)' : r.branches.join(', '),
          ]),
        ),
      );
    });

  projects
    .command('show')
    .description('show one project document, secrets replaced by ***')
    .argument('<name>', 'project name')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const backend = backendFor(context, command);
      // The name first: a name that could never be stored reaches no registry.
      const project = parseProjectName(name);
      const registry = await backend.registry();
      const text = await registry.get(project);
      if (text === undefined) throw new ProjectNotFoundError(project, registry.describe(project));
      const document = parseProjectDocument(text, registry.describe(project));
      const check = await resolvesWithDefaults(registry, document);
      const result = {
        name: project,
        location: registry.describe(project),
        secure: holdsSecret(document),
        document: redactDocument(document),
        ...(check.problem === undefined ? {} : { problem: check.problem }),
      };
      const output = wantsJson(command)
        ? `${JSON.stringify(result, null, 2)}\n`
        : `${result.location}${result.secure ? secureLabel(backend) : ''}\n${JSON.stringify(result.document, null, 2)}\n` +
          (check.problem === undefined ? '' : `problem: ${check.problem}\n`);
      // Belt and braces: a secret repeated under another key (pasted into `command`, say) is blanked too.
      context.io.stdout.write(new Redactor(check.secrets).redact(output));
    });

  projects
    .command('put')
    .description(
      'register or replace a project; the document is checked (schema, _default layering, git URL) before anything is written, and stored as a SecureString when it holds a secret',
    )
    .argument('<name>', 'project name: 1-128 of [A-Za-z0-9._-], not starting with _ . or -')
    .option('-f, --file <path>', 'project document (JSON); - reads stdin. Flags override its keys')
    .option('--git-url <url>', 'repository: https://host/path or user@host:path, no credentials')
    .option(
      '--command <program>',
      'deploy program; repeat for an argv (--command npx --command cdk ...)',
      collect,
    )
    .option('--deploy-dir <dir>', 'directory inside the repository to run the command in')
    .option(
      '--deploy-role <arn>',
      "IAM role (on /iwomp-deploy/) the deploy command runs with, every branch; per-branch rules go in the document's deployRole",
    )
    .option('--branch <pattern>', 'allowed branch glob; repeat for several (default: any branch)', collect)
    .option('--basic-username <user>', 'HTTP basic auth user (the password via --basic-password-env)')
    .option('--auth-token-env <VAR>', 'name of the environment variable holding the HTTP token')
    .option('--basic-password-env <VAR>', 'name of the environment variable holding the basic auth password')
    .option(
      '--status-token-env <VAR>',
      'name of the environment variable holding the token that sets commit statuses',
    )
    .option('--status-provider <name>', 'commit status API: github or gitlab (default: from the git host)')
    .option('--status-api-url <url>', 'commit status API base (default: api.github.com, or the GitLab host)')
    .option(
      '--ssh-private-key-file <path>',
      'file holding the SSH private key (needs --ssh-known-hosts-file)',
    )
    .option('--ssh-known-hosts-file <path>', 'known_hosts lines pinning the git host key')
    .option('--dry-run', 'check the document and print what would be stored, write nothing')
    .addOption(new Option('--auth-token <value>').hideHelp())
    .addOption(new Option('--basic-password <value>').hideHelp())
    .addOption(new Option('--ssh-private-key <value>').hideHelp())
    .addOption(new Option('--status-token <value>').hideHelp())
    .addHelpText(
      'after',
      '\nSecrets are never taken as flag values: argv is visible to every user of the machine (ps, /proc/<pid>/cmdline) and ends up in shell history and CI logs.\n\nExamples:\n  iwomp projects put demo --git-url https://github.com/me/infra.git --command ./deploy.sh --branch main\n  GH_TOKEN=... iwomp projects put demo --file demo.json --auth-token-env GH_TOKEN\n  iwomp projects put demo --file - < demo.json',
    )
    .action(async (name: string, flags: PutFlags, command: Command) => {
      refuseSecretFlags(flags);
      const backend = backendFor(context, command);
      // The name first: nothing else is read for a name that could never be stored.
      const project = parseProjectName(name);
      const document = await readProjectInput(flags, context);
      const registry = await backend.registry();
      let config: Awaited<ReturnType<typeof checkProjectDocument>>;
      try {
        config = await checkProjectDocument(document, registry, {
          allowLocalGitUrls: backend.allowsLocalGitUrls,
        });
      } catch (error) {
        throw configErrorFor(`project '${project}'`, error);
      }
      if (config.droppedDefaultCredentials !== undefined) {
        context.io.stderr.write(`iwomp: note: project '${project}': ${config.droppedDefaultCredentials}\n`);
      }
      const secure = holdsSecret(document);
      const location = registry.describe(project);
      const stored = secure
        ? backend.settings.registry.kind === 'ssm'
          ? ' (SecureString)'
          : ' (mode 0600)'
        : '';
      if (flags.dryRun !== true) await registry.put(project, JSON.stringify(document), { secure });
      const verb = flags.dryRun === true ? 'would store' : 'stored';
      if (wantsJson(command)) {
        writeJson(context.io, {
          name: project,
          location,
          secure,
          written: flags.dryRun !== true,
          document: redactDocument(document),
        });
      } else {
        context.io.stdout.write(`${verb} ${project} at ${location}${stored}\n`);
      }
    });

  projects
    .command('rm')
    .description('remove a project from the registry')
    .argument('<name>', 'project name')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const project = parseProjectName(name);
      const registry = await backendFor(context, command).registry();
      if (!(await registry.delete(project)))
        throw new ProjectNotFoundError(project, registry.describe(project));
      if (wantsJson(command)) writeJson(context.io, { name: project, removed: true });
      else context.io.stdout.write(`removed ${project} (${registry.describe(project)})\n`);
    });
}

/** How a secret-holding document is protected in this registry. */
function secureLabel(backend: Backend): string {
  return backend.settings.registry.kind === 'ssm' ? ' (SecureString)' : ' (mode 0600)';
}

type PutFlags = ProjectFlags & {
  readonly dryRun?: boolean;
  readonly authToken?: string;
  readonly basicPassword?: string;
  readonly sshPrivateKey?: string;
  readonly statusToken?: string;
};

/**
 * Secret flags exist only to say why they do not: the value is already in this process's argv
 * (and maybe in shell history), so the user should also rotate it.
 */
function refuseSecretFlags(flags: PutFlags): void {
  const given = (
    [
      ['authToken', '--auth-token', '--auth-token-env <VAR>'],
      ['basicPassword', '--basic-password', '--basic-password-env <VAR>'],
      ['sshPrivateKey', '--ssh-private-key', '--ssh-private-key-file <path>'],
      ['statusToken', '--status-token', '--status-token-env <VAR>'],
    ] as const
  ).find(([key]) => flags[key] !== undefined);
  if (given) {
    throw new UsageError(
      `${given[1]} is refused: command lines are visible to other users and land in logs; use ${given[2]} or --file (and rotate the value you typed)`,
    );
  }
}

export interface ProjectRow {
  readonly name: string;
  readonly gitUrl: string;
  /** Undefined: any branch may deploy. */
  readonly branches?: readonly string[];
  /** Why the stored document is unusable, when it is. */
  readonly problem?: string;
}

const LIST_CONCURRENCY = 8;

async function listProjects(registry: Registry): Promise<ProjectRow[]> {
  const names = await registry.list();
  const rows: ProjectRow[] = [];
  for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
    const batch = names.slice(i, i + LIST_CONCURRENCY);
    rows.push(...(await Promise.all(batch.map((name) => listRow(registry, name)))));
  }
  return rows;
}

async function listRow(registry: Registry, name: string): Promise<ProjectRow> {
  const text = await registry.get(name);
  // Deleted between list and get: report it as gone rather than failing the whole listing.
  if (text === undefined) return { name, gitUrl: '', problem: 'removed while listing' };
  try {
    const document = parseProjectDocument(text, name);
    return {
      name,
      gitUrl: displayGitUrl(document.gitUrl),
      ...(document.branches ? { branches: document.branches } : {}),
    };
  } catch (error) {
    if (error instanceof ConfigError) return { name, gitUrl: '', problem: error.message };
    throw error;
  }
}

/** Whether a stored document resolves over the current `_default`, and the secrets it carries. */
async function resolvesWithDefaults(
  registry: Registry,
  document: ProjectDocument,
): Promise<{ problem?: string; secrets: string[] }> {
  const own = [
    document.authToken,
    document.basicPassword,
    document.sshPrivateKey,
    document.statusToken,
  ].filter((s): s is string => s !== undefined);
  try {
    const config = resolveProjectConfig(await loadDefaults(registry), document);
    return { secrets: withJsonForms([...own, ...projectSecrets(config)]) };
  } catch (error) {
    if (error instanceof ConfigError) return { problem: error.message, secrets: withJsonForms(own) };
    throw error;
  }
}

/** Secrets as they appear inside JSON output too: a `"` or `\\` in a secret is printed escaped. */
function withJsonForms(secrets: readonly string[]): string[] {
  return [...secrets, ...secrets.map((s) => JSON.stringify(s).slice(1, -1))];
}
