import { quote } from './display.js';
import { BranchNotAllowedError, ConfigError } from './errors.js';
import { branchNameProblem } from './names.js';

// Syntax other glob dialects give a meaning to (`?`, classes, braces, extglobs, escapes). Refused
// rather than read literally, so a pattern never means less or more than it seems to.
const FOREIGN_SYNTAX = /[?[\]{}()\\]/;

/** {@link FOREIGN_SYNTAX} and negation as a JSON Schema `pattern`, so editors flag them too. */
export const BRANCH_PATTERN_SYNTAX = '^[^!?\\[\\]{}()\\\\][^?\\[\\]{}()\\\\]*$';

/**
 * Why a `branches` pattern is not one this pipeline supports, or undefined when it is. A pattern
 * is a branch name in which `*` matches any characters within one `/` segment, and a whole
 * segment `**` matches any number of segments: none or more in front (`**\/hotfix` matches
 * `hotfix`) and in the middle (`a/**\/b` matches `a/b`), one or more at the end (`release/**`
 * matches `release/1/2`, not `release`). Nothing else is special, and no other glob syntax is
 * accepted: no `?`, `[…]`, `{a,b}`, `(a|b)`, `@(…)`, `!negation` or backslash escapes.
 */
export function branchPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'is empty';
  if (pattern.startsWith('!'))
    return "negates ('!'), which is not supported: list the branches that may deploy";
  const foreign = FOREIGN_SYNTAX.exec(pattern)?.[0];
  if (foreign !== undefined) {
    return `uses '${foreign}', which is not supported: only '*' (within a segment) and '**' (across segments) are special`;
  }
  const segments = pattern.split('/');
  for (const [i, segment] of segments.entries()) {
    if (segment.includes('**') && segment !== '**')
      return "uses '**' inside a segment: it must be a whole segment (a/**/b)";
    if (segment === '**' && segments[i + 1] === '**') return "repeats '**/**': one '**' is enough";
  }
  // With each wildcard standing for a letter, the rest must be a valid branch name: a pattern
  // that no branch can match (spaces, '..', invisible characters) is a mistake, not a rule.
  const problem = branchNameProblem(pattern.replaceAll('*', 'x'));
  return problem === undefined ? undefined : `can never match a branch: ${problem}`;
}

/** Checks every pattern of a `branches` list; a ConfigError names the first one refused. */
export function assertBranchPatterns(patterns: readonly string[]): void {
  for (const pattern of patterns) {
    const problem = branchPatternProblem(pattern);
    if (problem !== undefined) throw new ConfigError(`branches: pattern ${quote(pattern)} ${problem}`);
  }
}

/**
 * Enforces a project's `branches` rules. They live in the registry, not in the repository:
 * a branch can rewrite its own deploy script, but not the registry. A pattern can only allow;
 * a pattern that is not valid (see {@link branchPatternProblem}) allows nothing.
 *
 * A small exact matcher rather than a glob library: the rules are two wildcards, and a library
 * accepts (and quietly gives meaning to) every other syntax it knows.
 */
export function isBranchAllowed(branch: string, patterns: readonly string[] | undefined): boolean {
  if (patterns === undefined) return true;
  const segments = branch.split('/');
  return patterns.some(
    (pattern) => branchPatternProblem(pattern) === undefined && matchSegments(pattern.split('/'), segments),
  );
}

export function assertBranchAllowed(
  project: string,
  branch: string,
  patterns: readonly string[] | undefined,
): void {
  if (!isBranchAllowed(branch, patterns)) throw new BranchNotAllowedError(project, branch, patterns ?? []);
}

function matchSegments(pattern: readonly string[], branch: readonly string[]): boolean {
  // Memoized on (pattern index, branch index): each pair is decided once, so several '**' stay
  // polynomial in the (at most 128) segments of a branch.
  const seen = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    const key = i * (branch.length + 1) + j;
    const known = seen.get(key);
    if (known !== undefined) return known;
    const result = step(i, j);
    seen.set(key, result);
    return result;
  };
  const step = (i: number, j: number): boolean => {
    const p = pattern[i];
    if (p === undefined) return j === branch.length;
    if (p === '**') {
      // Trailing: one or more segments. Elsewhere: none or more.
      if (i === pattern.length - 1) return j < branch.length;
      for (let k = j; k <= branch.length; k++) if (at(i + 1, k)) return true;
      return false;
    }
    const b = branch[j];
    // An empty segment is no part of a valid branch name: '*' does not stand for it.
    return b !== undefined && b !== '' && matchSegment(p, b) && at(i + 1, j + 1);
  };
  return at(0, 0);
}

/** One segment: literal text where `*` matches any run of characters (the segment has no `/`). */
function matchSegment(pattern: string, segment: string): boolean {
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (parts.length === 1) return pattern === segment;
  if (segment.length < first.length + last.length) return false;
  if (!segment.startsWith(first) || !segment.endsWith(last)) return false;
  // Middle parts left to right, each at its earliest place: greedy is exact for a single wildcard kind.
  let from = first.length;
  const end = segment.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = segment.indexOf(part, from);
    if (found === -1 || found + part.length > end) return false;
    from = found + part.length;
  }
  return true;
}
