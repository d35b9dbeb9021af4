import { InvalidInputError } from './errors.js';

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
// Control characters and Unicode format characters (bidi overrides, zero-width joiners): they make
// a branch name read differently from what it is.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/**
 * Checks a branch name as `git check-ref-format --branch` does, and more: no leading `-`, no
 * control or invisible characters, at most 255 bytes. `refs/heads/x` is accepted as `x`.
 * Returns the short branch name.
 */
export function parseBranchName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError('branch', 'branch name is empty');
  }
  const name = value.startsWith('refs/heads/') ? value.slice('refs/heads/'.length) : value;
  const problem = branchProblem(name);
  if (problem) throw new InvalidInputError('branch', `invalid branch name ${quote(value)}: ${problem}`);
  return name;
}

function branchProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (/\p{Cs}/u.test(name)) return 'it is not valid Unicode';
  if (Buffer.byteLength(name, 'utf8') > MAX_BRANCH_BYTES)
    return `it is longer than ${MAX_BRANCH_BYTES} bytes`;
  if (INVISIBLE.test(name)) return 'it contains a control or invisible character';
  if (name.startsWith('-')) return "it starts with '-'";
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

/**
 * Quotes untrusted text for an error message: JSON escapes keep it on one line, and invisible
 * characters JSON leaves raw (bidi overrides, zero-width spaces, U+2028) are escaped as `\uXXXX`,
 * so a log line shows what the text hides instead of being reordered by it.
 */
export function quote(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'undefined' : typeof value;
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown).replace(/[\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
