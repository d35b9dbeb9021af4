/**
 * A small, exact IAM evaluator for what moto does not evaluate: trust policies (principals as AWS
 * reads them), source identity, session tags and the condition operators below. It covers the
 * policies this project writes, and THROWS on anything outside that (an operator, key, element or
 * principal form it does not know), so a test can never pass because the evaluator guessed "allow".
 *
 * Model: the caller is always a role session in an AWS account (the worker, a project's deploy
 * role, the launcher). Explicit Deny in any policy wins; otherwise the identity policies must allow.
 * For `sts:AssumeRole` the target's trust policy must allow too (a trust policy naming a role ARN
 * does not stand in for the caller's identity policy: AWS applies that shortcut only to a principal
 * named by its session ARN, which the evaluator refuses). Session tags need `sts:TagSession`, a
 * source identity `sts:SetSourceIdentity`, each allowed by both sides.
 *
 * Not modelled: SCPs, RCPs, permissions boundaries, session policies, NotResource, NotPrincipal,
 * policy variables, numeric/date/IP operators. `…IfExists` is modelled for the string, ARN and
 * Bool operators above: true when the request does not carry the key.
 */

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly [other: string]: unknown;
}

/** Condition keys and their values in one request. A multi-valued key (aws:TagKeys) is an array. */
export type RequestContext = Readonly<Record<string, string | readonly string[] | undefined>>;

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

export class UnsupportedPolicyError extends Error {
  constructor(message: string) {
    super(`iam-eval: ${message}`);
    this.name = 'UnsupportedPolicyError';
  }
}

/** Keys the evaluator knows; a tag key follows the slash of the prefixed ones. */
const KEYS = new Set([
  'sts:sourceidentity',
  'aws:tagkeys',
  'aws:principalarn',
  'aws:principalaccount',
  // DynamoDB's fine-grained access control: the partition keys a request touches, the top-level
  // attributes it names, and what an UpdateItem returns.
  'dynamodb:leadingkeys',
  'dynamodb:attributes',
  'dynamodb:returnvalues',
]);
const KEY_PREFIXES = ['aws:requesttag/', 'iam:resourcetag/', 'aws:resourcetag/', 'aws:principaltag/'];
const MULTI_VALUED = new Set(['aws:tagkeys', 'dynamodb:leadingkeys', 'dynamodb:attributes']);

function knownKey(key: string): boolean {
  const lower = key.toLowerCase();
  return (
    KEYS.has(lower) || KEY_PREFIXES.some((prefix) => lower.startsWith(prefix) && lower.length > prefix.length)
  );
}

/** The request's value of `key`; key names are case-insensitive, tag keys after the slash are not. */
function lookup(context: RequestContext, key: string): string | readonly string[] | undefined {
  const slash = key.indexOf('/');
  const name = (slash === -1 ? key : key.slice(0, slash)).toLowerCase();
  const tag = slash === -1 ? '' : key.slice(slash);
  for (const [candidate, value] of Object.entries(context)) {
    const cs = candidate.indexOf('/');
    const cname = (cs === -1 ? candidate : candidate.slice(0, cs)).toLowerCase();
    const ctag = cs === -1 ? '' : candidate.slice(cs);
    if (cname === name && ctag === tag) return value;
  }
  return undefined;
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function statements(document: PolicyDocument): readonly PolicyStatement[] {
  if (document === null || typeof document !== 'object' || document.Statement === undefined) {
    throw new UnsupportedPolicyError(`not a policy document: ${JSON.stringify(document)}`);
  }
  return list(document.Statement);
}

/** `*` and `?` wildcards, anchored; `ignoreCase` for actions. */
function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern.includes('${'))
    throw new UnsupportedPolicyError(`policy variables are not supported: ${pattern}`);
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

const ALLOWED_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'Principal',
  'Condition',
]);

function checkElements(statement: PolicyStatement): void {
  for (const key of Object.keys(statement)) {
    if (!ALLOWED_ELEMENTS.has(key))
      throw new UnsupportedPolicyError(`statement element ${key} is not supported`);
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    throw new UnsupportedPolicyError(`Effect must be Allow or Deny, got ${JSON.stringify(statement.Effect)}`);
  }
  if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
    throw new UnsupportedPolicyError('a statement needs exactly one of Action and NotAction');
  }
}

function actionMatches(statement: PolicyStatement, action: string): boolean {
  if (statement.Action !== undefined) return list(statement.Action).some((p) => globMatch(p, action, true));
  return !list(statement.NotAction).some((p) => globMatch(p, action, true));
}

// --- conditions -------------------------------------------------------------------------------

type Operator = (actual: readonly string[], expected: readonly string[], present: boolean) => boolean;

/** An ARN compared segment by segment (the resource part may hold colons), each with wildcards. */
function arnLike(pattern: string, value: string): boolean {
  const p = pattern.split(':');
  const v = value.split(':');
  if (p.length < 6 || v.length < 6) return globMatch(pattern, value);
  const head = (parts: string[]) => [...parts.slice(0, 5), parts.slice(5).join(':')];
  const ph = head(p);
  const vh = head(v);
  return ph.every((segment, i) => globMatch(segment, vh[i] ?? ''));
}

const SINGLE: Record<string, Operator> = {
  stringequals: (a, e, present) => present && a.some((v) => e.includes(v)),
  stringnotequals: (a, e, present) => !present || !a.some((v) => e.includes(v)),
  stringlike: (a, e, present) => present && a.some((v) => e.some((p) => globMatch(p, v))),
  arnlike: (a, e, present) => present && a.some((v) => e.some((p) => arnLike(p, v))),
  arnequals: (a, e, present) => present && a.some((v) => e.some((p) => arnLike(p, v))),
  bool: (a, e, present) => present && a.some((v) => e.some((x) => x.toLowerCase() === v.toLowerCase())),
};

function evaluateCondition(
  operator: string,
  key: string,
  expectedRaw: unknown,
  context: RequestContext,
): boolean {
  if (!knownKey(key)) throw new UnsupportedPolicyError(`condition key ${key} is not supported`);
  const expected = list(expectedRaw as string | readonly string[]).map((value) => {
    if (typeof value === 'boolean') return String(value);
    if (typeof value !== 'string')
      throw new UnsupportedPolicyError(`condition value ${JSON.stringify(value)} is not a string`);
    return value;
  });
  const raw = lookup(context, key);
  const actual = list(raw);
  const present = raw !== undefined && actual.length > 0;
  const lower = operator.toLowerCase();
  const multi = MULTI_VALUED.has(key.toLowerCase());

  if (lower === 'null') {
    if (expected.length !== 1 || !['true', 'false'].includes(expected[0]?.toLowerCase() ?? '')) {
      throw new UnsupportedPolicyError(`Null takes "true" or "false", got ${JSON.stringify(expectedRaw)}`);
    }
    return (expected[0]?.toLowerCase() === 'true') === !present;
  }
  // ForAllValues holds for a key the request does not carry (nothing to fail), as in AWS.
  if (lower === 'forallvalues:stringequals') return actual.every((v) => expected.includes(v));
  if (lower === 'forallvalues:stringlike') return actual.every((v) => expected.some((p) => globMatch(p, v)));
  if (lower === 'foranyvalue:stringequals') return actual.some((v) => expected.includes(v));
  // `…IfExists`: true when the request does not carry the key, else the operator itself.
  const ifExists = lower.endsWith('ifexists') && lower !== 'null';
  const base = ifExists ? lower.slice(0, -'ifexists'.length) : lower;
  const single = SINGLE[base];
  if (!single) throw new UnsupportedPolicyError(`condition operator ${operator} is not supported`);
  // A single-valued operator on a multi-valued key is a classic policy bug; refuse to guess.
  if (multi)
    throw new UnsupportedPolicyError(
      `${operator} on the multi-valued key ${key}: use ForAllValues/ForAnyValue`,
    );
  if (ifExists && !present) return true;
  if (Array.isArray(raw) && raw.length > 1) throw new UnsupportedPolicyError(`${key} must be single-valued`);
  return single(actual, expected, present);
}

function conditionsMet(statement: PolicyStatement, context: RequestContext): boolean {
  const block = statement.Condition;
  if (block === undefined) return true;
  // Every operator, every key of each operator must hold (AND); values of one key are ORed.
  return Object.entries(block).every(([operator, keys]) => {
    if (keys === null || typeof keys !== 'object')
      throw new UnsupportedPolicyError(`bad condition ${operator}`);
    return Object.entries(keys).every(([key, expected]) =>
      evaluateCondition(operator, key, expected, context),
    );
  });
}

// --- identity policies -------------------------------------------------------------------------

export interface IdentityRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: RequestContext;
}

/** The decision of a set of identity policies (statements without Principal, with Resource). */
export function evaluateIdentity(policies: readonly PolicyDocument[], request: IdentityRequest): Decision {
  let allowed = false;
  for (const document of policies) {
    for (const statement of statements(document)) {
      checkElements(statement);
      if (statement.Principal !== undefined) {
        throw new UnsupportedPolicyError('an identity policy statement has a Principal');
      }
      if (statement.Resource === undefined)
        throw new UnsupportedPolicyError('an identity policy statement has no Resource');
      if (!actionMatches(statement, request.action)) continue;
      if (!list(statement.Resource).some((pattern) => globMatch(pattern, request.resource))) continue;
      if (!conditionsMet(statement, request.context ?? {})) continue;
      if (statement.Effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** Whether identity `policies` allow `action` on `resource` (no explicit deny, at least one allow). */
export function isAllowed(
  policies: readonly PolicyDocument[],
  action: string,
  resource: string,
  context: RequestContext = {},
): boolean {
  return evaluateIdentity(policies, { action, resource, context }) === 'allow';
}

// --- trust policies ----------------------------------------------------------------------------

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?[\w+=,.@-]+$/;

export function accountOf(roleArn: string): string {
  const match = ROLE_ARN.exec(roleArn);
  if (!match?.[2]) throw new UnsupportedPolicyError(`not a role ARN: ${roleArn}`);
  return match[2];
}

/** Whether a trust policy's Principal names the caller: a role session of `callerRoleArn`. */
function principalMatches(principal: unknown, callerRoleArn: string): boolean {
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') {
    throw new UnsupportedPolicyError(`Principal ${JSON.stringify(principal)} is not supported`);
  }
  let matched = false;
  for (const [kind, values] of Object.entries(principal as Record<string, unknown>)) {
    if (kind === 'Service' || kind === 'Federated' || kind === 'CanonicalUser') continue; // never a role session
    if (kind !== 'AWS') throw new UnsupportedPolicyError(`Principal type ${kind} is not supported`);
    for (const value of list(values as string | string[])) {
      if (typeof value !== 'string') throw new UnsupportedPolicyError(`Principal ${JSON.stringify(value)}`);
      if (value === '*') matched = true;
      else if (/^\d{12}$/.test(value) || /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(value)) {
        // The account: every principal of it whose own policies allow (checked separately).
        if (value.replace(/^arn:aws[a-z-]*:iam::(\d{12}):root$/, '$1') === accountOf(callerRoleArn))
          matched = true;
      } else if (ROLE_ARN.test(value)) {
        if (value === callerRoleArn) matched = true;
      } else {
        // Session ARNs, users and anything else: semantics the evaluator does not model.
        throw new UnsupportedPolicyError(
          `Principal AWS ${value} is not supported (only *, accounts and role ARNs)`,
        );
      }
    }
  }
  return matched;
}

export interface ResourcePolicyRequest {
  readonly action: string;
  /** The caller's role (its sessions are the principal). */
  readonly principalRoleArn: string;
  readonly context?: RequestContext;
}

/** The decision of a trust (resource) policy for a role session of `principalRoleArn`. */
export function evaluateTrust(trust: PolicyDocument, request: ResourcePolicyRequest): Decision {
  let allowed = false;
  for (const statement of statements(trust)) {
    checkElements(statement);
    if (statement.Principal === undefined)
      throw new UnsupportedPolicyError('a trust policy statement has no Principal');
    if (statement.Resource !== undefined)
      throw new UnsupportedPolicyError('a trust policy statement has a Resource');
    if (!actionMatches(statement, request.action)) continue;
    if (!principalMatches(statement.Principal, request.principalRoleArn)) continue;
    if (!conditionsMet(statement, request.context ?? {})) continue;
    if (statement.Effect === 'Deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

// --- sts:AssumeRole ----------------------------------------------------------------------------

export interface AssumeRoleQuestion {
  readonly caller: {
    /** The caller's role (it acts through a session of it). */
    readonly roleArn: string;
    readonly identityPolicies: readonly PolicyDocument[];
    /** The caller's principal tags (role tags and its own session tags). */
    readonly tags?: Readonly<Record<string, string>>;
    /** The caller session's own source identity: once set it cannot change along a role chain. */
    readonly sourceIdentity?: string;
  };
  readonly target: {
    readonly roleArn: string;
    readonly trustPolicy: PolicyDocument;
    readonly tags?: Readonly<Record<string, string>>;
  };
  readonly sourceIdentity?: string;
  readonly sessionTags?: Readonly<Record<string, string>>;
}

export interface AssumeRoleAnswer {
  readonly allowed: boolean;
  /** Each STS action the request needs, with the identity and trust decisions. */
  readonly checks: ReadonlyArray<{ action: string; identity: Decision; trust: Decision }>;
  /** Why it is denied, one line; empty when allowed. */
  readonly reason: string;
}

/** Whether a session of `caller.roleArn` may assume `target` with this source identity and these tags. */
export function canAssumeRole(question: AssumeRoleQuestion): AssumeRoleAnswer {
  const { caller, target } = question;
  const tags = question.sessionTags ?? {};
  const context: Record<string, string | readonly string[]> = {
    'aws:PrincipalArn': caller.roleArn,
    'aws:PrincipalAccount': accountOf(caller.roleArn),
  };
  for (const [k, v] of Object.entries(caller.tags ?? {})) context[`aws:PrincipalTag/${k}`] = v;
  for (const [k, v] of Object.entries(target.tags ?? {})) {
    context[`iam:ResourceTag/${k}`] = v;
    context[`aws:ResourceTag/${k}`] = v;
  }
  if (question.sourceIdentity !== undefined) context['sts:SourceIdentity'] = question.sourceIdentity;
  if (Object.keys(tags).length > 0) {
    for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
    context['aws:TagKeys'] = Object.keys(tags);
  }

  if (
    caller.sourceIdentity !== undefined &&
    question.sourceIdentity !== undefined &&
    caller.sourceIdentity !== question.sourceIdentity
  ) {
    return { allowed: false, checks: [], reason: 'the source identity of a role chain cannot change' };
  }
  const actions = [
    'sts:AssumeRole',
    ...(question.sourceIdentity === undefined ? [] : ['sts:SetSourceIdentity']),
    ...(Object.keys(tags).length === 0 ? [] : ['sts:TagSession']),
  ];
  const checks = actions.map((action) => ({
    action,
    identity: evaluateIdentity(caller.identityPolicies, { action, resource: target.roleArn, context }),
    trust: evaluateTrust(target.trustPolicy, { action, principalRoleArn: caller.roleArn, context }),
  }));
  const failed = checks.find((c) => c.identity !== 'allow' || c.trust !== 'allow');
  return {
    allowed: failed === undefined,
    checks,
    reason: failed
      ? `${failed.action}: identity policy ${failed.identity}, trust policy ${failed.trust}`
      : '',
  };
}
