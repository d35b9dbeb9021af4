import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DEPLOY_ROLE_PATH, SESSION_TAG_KEYS, sourceIdentityFor } from '../core/deploy-role.js';
import { IwompError } from '../core/errors.js';
import { parseProjectName } from '../core/names.js';
import { PipelinePropsError } from './errors.js';

/** Properties of {@link IwompDeployRole}. */
export interface IwompDeployRoleProps {
  /** The pipeline's worker role: the only principal the deploy role trusts. */
  readonly workerRole: iam.IRole;
  /** The registered project whose deploy commands get this role (its registry name). */
  readonly project: string;
  /**
   * What the role may do. Add more with `grant…(role)` or `role.addToPolicy(…)`.
   * @default - nothing: a deploy command with this role can do nothing until you grant it
   */
  readonly managedPolicies?: iam.IManagedPolicy[];
  /**
   * A description for the role.
   * @default - names the project
   */
  readonly description?: string;
}

/**
 * A project's deploy role: what its deploy commands may do, and nothing of the pipeline's. It
 * lives on the path `/iwomp-deploy/`, the only one the worker may assume, and trusts only the
 * worker's role, and only for sessions whose source identity names this project: a registry entry
 * that named another project's role would be refused by IAM. Put its ARN in the project's
 * `deployRole`.
 *
 * @example
 * const web = pipeline.addDeployRole('WebDeployRole', { project: 'web' });
 * siteBucket.grantReadWrite(web.role);
 */
export class IwompDeployRole extends Construct {
  /** The role. Grant it what the project's deploys need. */
  readonly role: iam.Role;
  /** The project it deploys. */
  readonly project: string;

  constructor(scope: Construct, id: string, props: IwompDeployRoleProps) {
    super(scope, id);
    try {
      this.project = parseProjectName(props.project);
    } catch (error) {
      if (error instanceof IwompError)
        throw new PipelinePropsError('project', error.message, { cause: error });
      throw error;
    }
    this.role = new iam.Role(this, 'Role', {
      path: DEPLOY_ROLE_PATH,
      assumedBy: new iam.ArnPrincipal(props.workerRole.roleArn).withConditions({
        StringEquals: { 'sts:SourceIdentity': sourceIdentityFor(this.project) },
      }),
      description: props.description ?? `iwomp-in-aws deploy role of project ${this.project}`,
      ...(props.managedPolicies ? { managedPolicies: props.managedPolicies } : {}),
    });
    // The worker names the project in the source identity and tags the session; the trust allows
    // exactly that, and the tags the worker sets, nothing else.
    this.role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:SetSourceIdentity'],
        principals: [new iam.ArnPrincipal(props.workerRole.roleArn)],
        conditions: { StringEquals: { 'sts:SourceIdentity': sourceIdentityFor(this.project) } },
      }),
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.ArnPrincipal(props.workerRole.roleArn)],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [...SESSION_TAG_KEYS] } },
      }),
    );
  }
}
