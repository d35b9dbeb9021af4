import { EnvironmentError, InvalidInputError, IwompError } from './errors.js';

/**
 * Helpers for the entry points that read their environment once. An empty variable counts as
 * unset, as CodeBuild and Lambda consoles make it easy to leave one empty.
 */
export function optionalVar(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function requiredVar(value: string | undefined): string {
  const set = optionalVar(value);
  if (set === undefined) throw new InvalidInputError('value', 'is required');
  return set;
}

/** `1`/`true` or `0`/`false`/unset. */
export function flagVar(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new EnvironmentError(name, `expected 1 or 0, got ${JSON.stringify(value)}`);
}

/** Runs a parser on one variable; its failure becomes one line that names the variable. */
export function readVar<T>(variable: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IwompError && !(error instanceof EnvironmentError)) {
      throw new EnvironmentError(variable, error.message, { cause: error });
    }
    throw error;
  }
}
