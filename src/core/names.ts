import { quote } from './display.js';
import { InvalidInputError } from './errors.js';

export { quote, showName } from './display.js';

/** The registry key of the defaults every project inherits. Never a project name. */
export const DEFAULTS_KEY = '_default';

const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks a project name before it is used in any registry path.
 * Allowed: `[A-Za-z0-9._-]`, 1–128 characters, not starting with `_` or `.` (so `_default`,
 * `..` and hidden files can never be named), and no `/` (so no nesting or traversal).
 */
export function parseProjectName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError('project', 'project name is empty');
  }
  if (!PROJECT_NAME.test(value)) {
    throw new InvalidInputError(
      'project',
      `invalid project name ${quote(value)}: use 1-128 of [A-Za-z0-9._-], not starting with '_', '.' or '-'`,
    );
  }
  return value;
}

const MAX_BRANCH_BYTES = 255;
// Whitespace of every kind (Z*: U+00A0, U+3000, U+2028…), control and format characters (bidi
// overrides, zero-width joiners), private and unassigned code points, and the invisible letters
// Unicode classes as default-ignorable or that render blank (Hangul fillers U+3164 and U+115F,
// braille blank U+2800): each makes a branch name read as a different one.
const INVISIBLE = /[\p{Z}\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\u2800]/u;

/**
 * Checks a branch name as `git check-ref-format --branch` does, and more: no leading `-`, no
 * whitespace, control or invisible characters, at most 255 bytes. Returns the short branch name.
 *
 * `refs/heads/x` is accepted as `x`, and a short name may not itself start with `refs/`: so the
 * prefix is stripped exactly once wherever this runs (message parse, worker environment), and
 * `refs/heads/refs/heads/main` is refused instead of becoming `main` at the second layer.
 */
export function parseBranchName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError('branch', 'branch name is empty');
  }
  const name = value.startsWith('refs/heads/') ? value.slice('refs/heads/'.length) : value;
  const problem = branchNameProblem(name);
  if (problem) throw new InvalidInputError('branch', `invalid branch name ${quote(value)}: ${problem}`);
  return name;
}

/** Why a short branch name is not valid, or undefined when it is. */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (/\p{Cs}/u.test(name)) return 'it is not valid Unicode';
  if (Buffer.byteLength(name, 'utf8') > MAX_BRANCH_BYTES)
    return `it is longer than ${MAX_BRANCH_BYTES} bytes`;
  if (INVISIBLE.test(name)) return 'it contains whitespace, or a control or invisible character';
  if (name.startsWith('-')) return "it starts with '-'";
  if (name.startsWith('refs/'))
    return "a branch name must not start with 'refs/' (write main or refs/heads/main, once)";
  if (name === 'HEAD') return "'HEAD' is not a branch";
  if (name === '@') return "'@' is not a branch";
  if (/[ ~^:?*[\\]/.test(name)) return 'it contains one of: space ~ ^ : ? * [ \\';
  if (name.includes('..')) return "it contains '..'";
  if (name.includes('@{')) return "it contains '@{'";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//'))
    return "it has an empty '/' component";
  if (name.endsWith('.')) return "it ends with '.'";
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return "a component starts with '.'";
    if (component.endsWith('.lock')) return "a component ends with '.lock'";
  }
  return undefined;
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** A full commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex characters. */
export function parseCommit(value: unknown): string {
  if (typeof value !== 'string' || !COMMIT.test(value)) {
    throw new InvalidInputError(
      'commit',
      `invalid commit ${quote(value)}: expected 40 or 64 lowercase hex characters`,
    );
  }
  return value;
}

const CONFIG_PATH_SEGMENT = /^[A-Za-z0-9_.-]+$/;

/** The registry's root when none is given: the seed's `CONFIGPATH` default, `/iwomp-in-aws/<project>`. */
export const DEFAULT_CONFIG_PATH = 'iwomp-in-aws';

/**
 * Checks the registry root (`CONFIGPATH`): SSM path segments separated by `/`, with no empty,
 * `.` or `..` segment. A leading or trailing `/` is dropped: `/iwomp-in-aws/` means `iwomp-in-aws`.
 */
export function parseConfigPath(value: string): string {
  const trimmed = value.replace(/^\/+|\/+$/g, '');
  const segments = trimmed.split('/');
  const ok =
    trimmed.length > 0 && segments.every((s) => CONFIG_PATH_SEGMENT.test(s) && s !== '.' && s !== '..');
  if (!ok) {
    throw new InvalidInputError(
      'configPath',
      `invalid config path ${quote(value)}: use '/'-separated segments of [A-Za-z0-9_.-], without '.' or '..'`,
    );
  }
  return trimmed;
}
