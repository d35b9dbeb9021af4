import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { IwompError } from '../core/errors.js';
import { parseBranchName } from '../core/names.js';
import { PipelinePropsError } from './errors.js';

/** Options of `IwompPipeline.addGithubActionsRole`. */
export interface GithubActionsRoleOptions {
  /** Repositories whose workflows may trigger deployments, as `owner/name` (no wildcards). */
  readonly repositories: string[];
  /**
   * Branches whose workflow runs may trigger deployments (exact names, no wildcards).
   * @default ['main']
   */
  readonly branches?: string[];
  /**
   * ARN of the account's existing OIDC provider for `token.actions.githubusercontent.com`. An
   * account holds one provider per URL: pass it when another stack already created it.
   * @default - a provider is created
   */
  readonly oidcProviderArn?: string;
  /**
   * The trigger topic the role may publish to: a topic made by `IwompPipeline.addTriggerTopic`
   * limits the role to that topic's projects.
   * @default - the pipeline's main topic: every registered project
   */
  readonly topic?: sns.ITopic;
}

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const PROVIDER_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/;

/**
 * A role for GitHub Actions OIDC. The trust policy pins the audience and lists every allowed
 * subject exactly (`repo:<owner>/<name>:ref:refs/heads/<branch>`): no pattern can let another
 * repository, a fork or a pull request in.
 */
export function githubActionsRole(scope: Construct, id: string, options: GithubActionsRoleOptions): iam.Role {
  const { repositories, branches, providerArn } = validate(options);
  const provider =
    providerArn === undefined
      ? new iam.OidcProviderNative(scope, `${id}OidcProvider`, {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: ['sts.amazonaws.com'],
        })
      : iam.OidcProviderNative.fromOidcProviderArn(scope, `${id}OidcProvider`, providerArn);
  const subjects = repositories.flatMap((repo) =>
    branches.map((branch) => `repo:${repo}:ref:refs/heads/${branch}`),
  );
  return new iam.Role(scope, id, {
    description: `iwomp-in-aws trigger for GitHub Actions: ${repositories.join(', ')} on ${branches.join(', ')}`,
    maxSessionDuration: Duration.hours(1),
    assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
      StringEquals: {
        [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
        [`${GITHUB_OIDC_HOST}:sub`]: subjects,
      },
    }),
  });
}

function validate(options: GithubActionsRoleOptions): {
  repositories: string[];
  branches: string[];
  providerArn?: string;
} {
  if (options.repositories.length === 0) {
    throw new PipelinePropsError('repositories', 'list at least one repository as owner/name');
  }
  for (const repo of options.repositories) {
    if (!REPOSITORY.test(repo)) {
      throw new PipelinePropsError(
        'repositories',
        `expected owner/name without wildcards, got ${JSON.stringify(repo)}`,
      );
    }
  }
  const branches = options.branches ?? ['main'];
  if (branches.length === 0) throw new PipelinePropsError('branches', 'list at least one branch');
  const parsed = branches.map((branch) => {
    try {
      return parseBranchName(branch);
    } catch (error) {
      if (error instanceof IwompError)
        throw new PipelinePropsError('branches', error.message, { cause: error });
      throw error;
    }
  });
  const arn = options.oidcProviderArn;
  if (arn !== undefined && !Token.isUnresolved(arn) && !PROVIDER_ARN.test(arn)) {
    throw new PipelinePropsError(
      'oidcProviderArn',
      `expected the ARN of an OIDC provider for ${GITHUB_OIDC_HOST}, got ${JSON.stringify(arn)}`,
    );
  }
  return {
    repositories: [...options.repositories],
    branches: parsed,
    ...(arn === undefined ? {} : { providerArn: arn }),
  };
}
