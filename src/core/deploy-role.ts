import { isBranchAllowed } from './branch-policy.js';
import { ConfigError } from './errors.js';

/**
 * The IAM path every deploy role lives on. The worker's role may assume roles on this path only,
 * so a registry document cannot hand a project some other role of the account (the pipeline's
 * own, an administrator's). Each deploy role also trusts only the worker's role.
 */
export const DEPLOY_ROLE_PATH = '/iwomp-deploy/';

/** A checked IAM role ARN. */
export interface RoleArn {
  readonly arn: string;
  readonly partition: 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b';
  readonly account: string;
  /** `/` or `/a/b/`. */
  readonly path: string;
  readonly name: string;
}

const ARN = /^arn:([^:]*):iam::([^:]*):role(\/[\s\S]*)$/;
const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b']);
// IAM's own rules: a role name is 1-64 of [\w+=,.@-]; a path is `/` or `/…/` of printable ASCII.
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const PATH = /^\/(?:[\x21-\x7e]*\/)?$/;

/** Checks an IAM role ARN given in the registry; `what` names the key in the error. */
export function parseRoleArn(value: string, what = 'deployRole'): RoleArn {
  const bad = (why: string) => new ConfigError(`${what}: ${why}, got ${JSON.stringify(value)}`);
  const match = ARN.exec(value);
  if (match === null) throw bad('expected an IAM role ARN (arn:aws:iam::<account>:role/iwomp-deploy/<name>)');
  const [, partition = '', account = '', rest = ''] = match;
  if (!PARTITIONS.has(partition))
    throw bad(`unknown partition ${JSON.stringify(partition)} (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b)`);
  if (!/^\d{12}$/.test(account)) throw bad('the account must be 12 digits');
  const slash = rest.lastIndexOf('/');
  const path = rest.slice(0, slash + 1);
  const name = rest.slice(slash + 1);
  if (!ROLE_NAME.test(name)) throw bad('the role name must be 1-64 of letters, digits and +=,.@_-');
  if (!PATH.test(path) || path.length > 512) throw bad('the role path must be / or /a/b/ in printable ASCII');
  if (!path.startsWith(DEPLOY_ROLE_PATH)) {
    throw bad(
      `the role must be on the path ${DEPLOY_ROLE_PATH} (the worker may assume only those; ` +
        'create it with IwompPipeline.addDeployRole)',
    );
  }
  return { arn: value, partition: partition as RoleArn['partition'], account, path, name };
}

/** One rule of a per-branch `deployRole`: the first rule whose patterns allow the branch wins. */
export interface BranchRole {
  readonly branches: readonly string[];
  readonly roleArn: string;
}

/** `deployRole` after validation: one role for every branch, or rules per branch pattern. */
export type DeployRoleSetting = string | readonly BranchRole[];

/**
 * The role a branch deploys with, or undefined when the project names none for it: then the
 * deploy command gets no AWS credentials at all.
 */
export function roleForBranch(setting: DeployRoleSetting | undefined, branch: string): string | undefined {
  if (setting === undefined) return undefined;
  if (typeof setting === 'string') return setting;
  return setting.find((rule) => isBranchAllowed(branch, rule.branches))?.roleArn;
}

/** How a deploy shows in CloudTrail: the session name, source identity and tags of its role session. */
export interface DeploySession {
  /** `RoleSessionName`: 2-64 of [\w+=,.@-]: the project and the build. */
  readonly sessionName: string;
  /** `SourceIdentity`: the project; it stays on every session chained from this one. */
  readonly sourceIdentity: string;
  /** Session tags: project, branch and commit (values encoded to IAM's tag alphabet). */
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
}

export function deploySession(job: {
  readonly project: string;
  readonly branch: string;
  readonly commit: string;
  /** CodeBuild's build id, or the local job id. */
  readonly buildId?: string;
}): DeploySession {
  // Project names are [A-Za-z0-9._-], all legal here; build ids hold ':' (project:uuid), which is not.
  const build = (job.buildId ?? '').replace(/[^\w+=,.@-]/g, '-');
  const sessionName = `iwomp-${job.project}${build ? `@${build}` : ''}`.slice(0, 64);
  return {
    sessionName,
    sourceIdentity: sourceIdentityFor(job.project),
    tags: [
      { Key: 'iwomp:project', Value: job.project },
      { Key: 'iwomp:branch', Value: encodeTagValue(job.branch) },
      { Key: 'iwomp:commit', Value: job.commit },
    ],
  };
}

/** The source identity of a project's deploy sessions; each deploy role requires its own project's. */
export function sourceIdentityFor(project: string): string {
  return `iwomp-${project}`.slice(0, 64);
}

/** The session tag keys the worker sets: a deploy role's trust allows exactly these. */
export const SESSION_TAG_KEYS = ['iwomp:project', 'iwomp:branch', 'iwomp:commit'] as const;

/**
 * Session tag values may hold letters, digits, spaces and `_ . : / = + - @`, up to 256
 * characters. Anything else (and `+` itself) becomes `+XX` per UTF-8 byte, so distinct branches
 * always get distinct values and a policy condition on the tag cannot be fooled by a look-alike.
 */
export function encodeTagValue(value: string): string {
  const out = [...Buffer.from(value, 'utf8')]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return byte < 0x80 && /[\w .:/=@-]/.test(c)
        ? c
        : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  return out.length <= 256 ? out : `${out.slice(0, 240)}+TRUNCATED`;
}
