/**
 * What each named error says and carries: its name (shown by the worker and the CLI), its one-line
 * message, the fields callers read, and its cause. Categories are pinned in error-taxonomy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  BranchNotAllowedError,
  CloneError,
  CommandError,
  ConfigError,
  categoryOf,
  DeployRoleError,
  EnvironmentError,
  InternalError,
  InvalidInputError,
  IwompError,
  JobStartError,
  ProjectNotFoundError,
  RegistryError,
  SupersededError,
  unreachable,
} from '../../src/core/errors.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('named errors', () => {
  it.each([
    ['InternalError', () => new InternalError('bug'), 'bug'],
    [
      'EnvironmentError',
      () => new EnvironmentError('PROJECTNAME', 'is required'),
      'PROJECTNAME: is required',
    ],
    ['InvalidInputError', () => new InvalidInputError('branch', 'bad branch'), 'bad branch'],
    ['RegistryError', () => new RegistryError('throttled'), 'throttled'],
    ['JobStartError', () => new JobStartError('transient', 'throttled'), 'throttled'],
    [
      'ProjectNotFoundError',
      () => new ProjectNotFoundError('demo', '/iwomp-in-aws/demo'),
      "project 'demo' is not registered (no /iwomp-in-aws/demo)",
    ],
    ['ConfigError', () => new ConfigError('bad document'), 'bad document'],
    [
      'BranchNotAllowedError',
      () => new BranchNotAllowedError('demo', 'dev', ['main', 'release/*']),
      "branch 'dev' may not deploy project 'demo' (allowed: main, release/*)",
    ],
    ['CloneError', () => new CloneError('fetch failed'), 'fetch failed'],
    [
      'SupersededError',
      () => new SupersededError('main', A, B),
      `superseded: branch 'main' is at ${B}, not at the requested commit ${A}; ` +
        'the deploy command did not run (a later trigger deploys the newer commit)',
    ],
    ['CommandError', () => new CommandError('exit 3', 3), 'exit 3'],
    ['DeployRoleError', () => new DeployRoleError('denied'), 'denied'],
  ])('%s has its own name and the message it was given', (name, build, message) => {
    // GIVEN a named error, built inside the test (so mutation testing credits it)
    const error = build();
    // WHEN it is shown / THEN its name and one-line message are as written
    expect(error).toBeInstanceOf(IwompError);
    expect(error.name).toBe(name);
    expect(error.message).toBe(message);
    expect(String(error)).toBe(`${name}: ${message}`);
    // AND it has no cause when none was given (not even an undefined one)
    expect('cause' in error).toBe(false);
  });

  it.each([
    ['internal', () => new InternalError('bug')],
    ['environment', () => new EnvironmentError('X', 'bad')],
    ['invalid-input', () => new InvalidInputError('branch', 'bad')],
    ['unavailable', () => new JobStartError('transient', 'throttled')],
    ['misconfigured', () => new JobStartError('configuration', 'no worker project')],
    ['not-found', () => new ProjectNotFoundError('demo', '/iwomp-in-aws/demo')],
    ['invalid-config', () => new ConfigError('bad')],
    ['policy', () => new BranchNotAllowedError('demo', 'dev', ['main'])],
    ['clone', () => new CloneError('failed')],
    ['superseded', () => new SupersededError('main', A, B)],
    ['command', () => new CommandError('failed', 1)],
    ['deploy-role', () => new DeployRoleError('denied')],
  ] as const)('%s: error %#', (category, build) => {
    // GIVEN a named error built inside the test / WHEN its category is read / THEN it is its class's
    const error = build();
    expect(error.category).toBe(category);
    expect(categoryOf(error)).toBe(category);
  });

  it('keeps the cause it was given', () => {
    // GIVEN errors raised because of another
    const root = new Error('AccessDenied');
    // WHEN / THEN the cause is kept on each, for the log
    for (const error of [
      new InternalError('bug', { cause: root }),
      new EnvironmentError('X', 'bad', { cause: root }),
      new InvalidInputError('value', 'bad', { cause: root }),
      new RegistryError('denied', { cause: root, category: 'misconfigured' }),
      new JobStartError('configuration', 'no project', { cause: root }),
      new ConfigError('bad', { cause: root }),
      new CloneError('failed', { cause: root }),
      new CommandError('failed', 1, { cause: root }),
      new DeployRoleError('denied', { cause: root }),
    ]) {
      expect(error.cause).toBe(root);
    }
  });

  it('carries the fields callers read', () => {
    // GIVEN errors built with their details / WHEN read / THEN each detail is there
    expect(new EnvironmentError('PROJECTNAME', 'is required').variable).toBe('PROJECTNAME');
    expect(new InvalidInputError('commit', 'bad').field).toBe('commit');
    expect(new JobStartError('configuration', 'x').kind).toBe('configuration');
    const missing = new ProjectNotFoundError('demo', '/iwomp-in-aws/demo');
    expect([missing.project, missing.location]).toEqual(['demo', '/iwomp-in-aws/demo']);
    const refused = new BranchNotAllowedError('demo', 'dev', ['main']);
    expect([refused.project, refused.branch, refused.patterns]).toEqual(['demo', 'dev', ['main']]);
    const superseded = new SupersededError('main', A, B);
    expect([superseded.branch, superseded.requested, superseded.head]).toEqual(['main', A, B]);
    expect(new CommandError('killed', 143).exitCode).toBe(143);
  });

  it('shows an untrusted branch and pattern escaped, so they cannot pass for others', () => {
    // GIVEN a refused branch with a quote and a look-alike letter, and a pattern with one
    // WHEN the refusal is shown
    const error = new BranchNotAllowedError('demo', "dé'v", ['main', 'fé']);
    // THEN both are escaped on one line
    expect(error.message).toBe(
      `branch 'd\\u00e9\\'v' may not deploy project 'demo' (allowed: main, "f\\u00e9")`,
    );
  });

  it('defaults a registry failure to unavailable (retried), unless the adapter says otherwise', () => {
    expect(new RegistryError('throttled').category).toBe('unavailable');
    expect(new RegistryError('throttled', {}).category).toBe('unavailable');
    expect(new RegistryError('denied', { category: 'misconfigured' }).category).toBe('misconfigured');
  });
});

describe('categoryOf and unreachable', () => {
  it('gives an IwompError its own category and anything else internal', () => {
    expect(categoryOf(new CloneError('x'))).toBe('clone');
    expect(categoryOf(new Error('x'))).toBe('internal');
    expect(categoryOf('a string')).toBe('internal');
  });

  it('throws an InternalError that names the unexpected value', () => {
    // GIVEN a value a switch did not expect / WHEN unreachable is reached / THEN it is a bug, named
    expect(() => unreachable('surprise' as never)).toThrow(InternalError);
    expect(() => unreachable('surprise' as never)).toThrow(/^unexpected value "surprise"$/);
    expect(() => unreachable({ kind: 'x' } as never)).toThrow(/^unexpected value \{"kind":"x"\}$/);
  });
});
