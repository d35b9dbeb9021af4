/**
 * One category per error, and three reactions derived from it: the worker's exit code, the CLI's
 * exit code and the launcher's rejected / failed decision. These rows pin the reaction of every
 * named error, so a new class or a changed category shows up here.
 */
import { describe, expect, it } from 'vitest';
import { DeployNotFoundError, DeployServiceError } from '../../src/adapters/aws/deploy-errors.js';
import { AwsServiceError, NotFoundError, TriggerRejectedError, UsageError } from '../../src/cli/errors.js';
import { CliExitCode, cliExitCodeFor } from '../../src/cli/exit-codes.js';
import {
  BranchNotAllowedError,
  CloneError,
  CommandError,
  ConfigError,
  DeployRoleError,
  EnvironmentError,
  type ErrorCategory,
  InternalError,
  InvalidInputError,
  type IwompError,
  JobStartError,
  ProjectNotFoundError,
  RegistryError,
  SupersededError,
} from '../../src/core/errors.js';
import { ExitCode, exitCodeFor } from '../../src/core/exit-codes.js';
import { type Disposition, dispositionOf } from '../../src/launcher/disposition.js';
import { JobNotFoundError, LocalStateError } from '../../src/local/errors.js';
import { JobLimitError } from '../../src/ports/job-launcher.js';

const rejected: Disposition = { outcome: 'rejected' };
const transient: Disposition = { outcome: 'failed', kind: 'transient' };
const configuration: Disposition = { outcome: 'failed', kind: 'configuration' };

type Row = [IwompError, ErrorCategory, number, number, Disposition];

const rows: Row[] = [
  [
    new InvalidInputError('branch', 'bad'),
    'invalid-input',
    ExitCode.badEnvironment,
    CliExitCode.invalidInput,
    rejected,
  ],
  [
    new EnvironmentError('PROJECTNAME', 'is required'),
    'environment',
    ExitCode.badEnvironment,
    CliExitCode.invalidInput,
    configuration,
  ],
  [
    new ProjectNotFoundError('demo', '/iwomp-in-aws/demo'),
    'not-found',
    ExitCode.registryOrConfig,
    CliExitCode.notFound,
    rejected,
  ],
  [
    new ConfigError('bad document'),
    'invalid-config',
    ExitCode.registryOrConfig,
    CliExitCode.invalidInput,
    rejected,
  ],
  [
    new BranchNotAllowedError('demo', 'dev', ['main']),
    'policy',
    ExitCode.branchNotAllowed,
    CliExitCode.rejected,
    rejected,
  ],
  [new RegistryError('throttled'), 'unavailable', ExitCode.registryOrConfig, CliExitCode.service, transient],
  [
    new RegistryError('denied', { category: 'misconfigured' }),
    'misconfigured',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    configuration,
  ],
  [
    new JobStartError('transient', 'throttled'),
    'unavailable',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    transient,
  ],
  [
    new JobStartError('configuration', 'no worker'),
    'misconfigured',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    configuration,
  ],
  [
    new JobLimitError('build limit'),
    'unavailable',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    transient,
  ],
  [
    new DeployNotFoundError("no deploy 'x' in table t"),
    'not-found',
    ExitCode.registryOrConfig,
    CliExitCode.notFound,
    rejected,
  ],
  [
    new DeployServiceError('cannot read the deploy table t: throttled'),
    'unavailable',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    transient,
  ],
  [
    new DeployServiceError('cannot read log stream s: AccessDeniedException', { category: 'misconfigured' }),
    'misconfigured',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    configuration,
  ],
  [new CloneError('fetch failed'), 'clone', ExitCode.cloneFailed, CliExitCode.internal, transient],
  [
    new SupersededError('main', 'a'.repeat(40), 'b'.repeat(40)),
    'superseded',
    ExitCode.superseded,
    CliExitCode.internal,
    transient,
  ],
  [new DeployRoleError('denied'), 'deploy-role', 86, CliExitCode.service, configuration],
  [new CommandError('exit 3', 3), 'command', 3, CliExitCode.internal, transient],
  [new InternalError('bug'), 'internal', ExitCode.internal, CliExitCode.internal, transient],
  [new UsageError('unknown option'), 'usage', ExitCode.internal, CliExitCode.usage, transient],
  [new NotFoundError('no stack'), 'not-found', ExitCode.registryOrConfig, CliExitCode.notFound, rejected],
  [new TriggerRejectedError('rejected'), 'policy', ExitCode.branchNotAllowed, CliExitCode.rejected, rejected],
  [
    new AwsServiceError('publish failed'),
    'unavailable',
    ExitCode.registryOrConfig,
    CliExitCode.service,
    transient,
  ],
  [
    new JobNotFoundError('x', '.iwomp'),
    'not-found',
    ExitCode.registryOrConfig,
    CliExitCode.notFound,
    rejected,
  ],
  [new LocalStateError('broken'), 'unavailable', ExitCode.registryOrConfig, CliExitCode.service, transient],
];

describe('error taxonomy', () => {
  it.each(rows)(
    '%s is %s: worker exit %s, CLI exit %s, launcher %o',
    (error, category, worker, cli, launcher) => {
      // GIVEN one named error
      // WHEN each consumer reacts to it
      // THEN all three reactions follow from its one category
      expect(error.category).toBe(category);
      expect(exitCodeFor(error)).toBe(worker);
      expect(cliExitCodeFor(error)).toBe(cli);
      expect(dispositionOf(error)).toEqual(launcher);
    },
  );

  it('treats anything that is not an IwompError as internal: worker 85, CLI 1, retried by the launcher', () => {
    // GIVEN errors nobody named
    for (const error of [new Error('boom'), new TypeError('x is undefined'), 'a string', undefined]) {
      // WHEN / THEN
      expect(exitCodeFor(error)).toBe(ExitCode.internal);
      expect(cliExitCodeFor(error)).toBe(CliExitCode.internal);
      expect(dispositionOf(error)).toEqual(transient);
    }
  });

  it("passes a failed deploy command's own status through as the worker's exit code", () => {
    // GIVEN commands that ended in different ways
    // WHEN / THEN the worker exits with the command's status
    expect(exitCodeFor(new CommandError('not found', 127))).toBe(127);
    expect(exitCodeFor(new CommandError('killed', 143))).toBe(143);
  });

  it('keeps the registry failure category the adapter chose', () => {
    // GIVEN a registry failure whose cause needs a fix
    const error = new RegistryError('denied', {
      category: 'misconfigured',
      cause: new Error('AccessDenied'),
    });
    // THEN it is retried as a configuration failure, not dropped
    expect(dispositionOf(error)).toEqual(configuration);
  });
});
