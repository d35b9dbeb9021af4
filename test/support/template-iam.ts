/**
 * Creates the IAM of synthesized CDK stacks in moto (roles, inline and managed policies, intrinsics
 * resolved) and hands out credentials for those roles, so a test can act AS a role with the real
 * SDK, the aws CLI or the `dist/*.js` bundles against a moto that enforces IAM.
 *
 * What moto checks, and what it does not (see DESIGN.md "More facts"): identity policies, Allow and
 * Deny, actions and resources (SSM and CodeBuild resources through the moto_server.py patch). It
 * does not evaluate trust policies the way AWS does, nor most conditions (it treats a condition as
 * met unless the request carries the key, which only `sts:ExternalId` does), nor source identity
 * and session tags. So roles are created in moto with an OPEN trust policy (`trust: 'open'`) and
 * their real trust policies are returned resolved, for `iam-eval.ts` to decide who may assume them.
 */

import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { type CfnTemplate, type ResolveOptions, TemplateResolver } from './cfn-resolve.js';
import type { PolicyDocument } from './iam-eval.js';
import type { Moto } from './moto.js';

export interface StackTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

export interface TemplateIamOptions
  extends Pick<ResolveOptions, 'refs' | 'attributes' | 'assetBucket' | 'imports'> {
  /**
   * The trust policy the roles get in moto. `open`: any principal may assume, tag and set the
   * source identity (moto cannot evaluate real trust policies; use `iam-eval.ts` on
   * `DeployedRole.trustPolicy`). `template`: the template's own trust policy, for tests of moto's
   * literal behaviour.
   * @default 'open'
   */
  readonly trust?: 'open' | 'template';
}

/** A role of the templates as created in moto. */
export interface DeployedRole {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The template's trust policy, resolved (moto holds the `trust` option's policy instead). */
  readonly trustPolicy: PolicyDocument;
  /** Inline policies: the role's own `Policies` and every `AWS::IAM::Policy` naming it. */
  readonly inlinePolicies: PolicyDocument[];
  /** Managed policies attached: customer ones from the templates, or AWS managed ARNs. */
  readonly managedPolicyArns: string[];
  readonly tags: Record<string, string>;
}

export interface TemplateIam {
  readonly roles: DeployedRole[];
  /** Customer managed policies created from the templates: ARN → document. */
  readonly managedPolicies: ReadonlyMap<string, PolicyDocument>;
  /** Each stack's resolver, for reading other resolved values of the same deployment. */
  readonly resolvers: ReadonlyMap<string, TemplateResolver>;
  /** The one role matching `match` (its ARN, or a predicate); throws unless exactly one matches. */
  role(match: string | ((role: DeployedRole) => boolean)): DeployedRole;
  /** Every identity policy document of a role (inline and customer managed). Throws on AWS managed ones. */
  identityPolicies(role: DeployedRole): PolicyDocument[];
}

const OPEN_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
    },
  ],
};

/**
 * Creates every `AWS::IAM::Role`, `AWS::IAM::ManagedPolicy` and `AWS::IAM::Policy` of `stacks` in
 * moto, as the admin. Stacks are deployed in order; a later stack's `Fn::ImportValue` reads an
 * earlier stack's exports.
 *
 * @example
 * const iam = await createTemplateIam(moto, [{ stackName: 'iwomp', template: Template.fromStack(stack).toJSON() }]);
 * const worker = iam.role((r) => r.logicalId.startsWith('PipelineWorkerRole'));
 */
export async function createTemplateIam(
  moto: Moto,
  stacks: StackTemplate[],
  options: TemplateIamOptions = {},
): Promise<TemplateIam> {
  const client = new IAMClient(moto.clientConfig);
  const roles: DeployedRole[] = [];
  const managedPolicies = new Map<string, PolicyDocument>();
  const resolvers = new Map<string, TemplateResolver>();
  const imports: Record<string, string> = { ...options.imports };
  try {
    for (const { stackName, template } of stacks) {
      const resolver = new TemplateResolver(template, {
        stackName,
        account: moto.account,
        region: moto.region,
        imports,
        ...(options.refs ? { refs: options.refs } : {}),
        ...(options.attributes ? { attributes: options.attributes } : {}),
        ...(options.assetBucket ? { assetBucket: options.assetBucket } : {}),
      });
      resolvers.set(stackName, resolver);
      const stackRoles = new Map<string, DeployedRole>();

      for (const id of resolver.ofType('AWS::IAM::Role')) {
        const properties = resolver.resource(id).Properties ?? {};
        const role = resolver.resolve(properties) as Record<string, unknown>;
        if (role.PermissionsBoundary !== undefined) {
          throw new Error(`template-iam: ${id} has a permissions boundary, which the harness does not model`);
        }
        const trustPolicy = role.AssumeRolePolicyDocument as PolicyDocument;
        const tags = Object.fromEntries(
          ((role.Tags ?? []) as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value]),
        );
        const name = resolver.physicalName(id);
        await client.send(
          new CreateRoleCommand({
            RoleName: name,
            ...(typeof role.Path === 'string' ? { Path: role.Path } : {}),
            AssumeRolePolicyDocument: JSON.stringify(options.trust === 'template' ? trustPolicy : OPEN_TRUST),
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        const deployed: DeployedRole = {
          stackName,
          logicalId: id,
          name,
          arn: resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }, `${id}.Arn`),
          trustPolicy,
          inlinePolicies: [],
          managedPolicyArns: [],
          tags,
        };
        for (const policy of (role.Policies ?? []) as Array<{
          PolicyName: string;
          PolicyDocument: PolicyDocument;
        }>) {
          await putRolePolicy(client, deployed, policy.PolicyName, policy.PolicyDocument);
        }
        stackRoles.set(id, deployed);
        roles.push(deployed);
      }

      const roleByName = (value: unknown, where: string): DeployedRole => {
        const found = roles.find((r) => r.name === value);
        if (!found)
          throw new Error(
            `template-iam: ${where} names ${JSON.stringify(value)}, not a role of these stacks`,
          );
        return found;
      };

      for (const id of resolver.ofType('AWS::IAM::ManagedPolicy')) {
        const policy = resolver.resolve(resolver.resource(id).Properties ?? {}) as Record<string, unknown>;
        if (policy.Users !== undefined || policy.Groups !== undefined) {
          throw new Error(
            `template-iam: ${id} is attached to users or groups, which the harness does not create`,
          );
        }
        const document = policy.PolicyDocument as PolicyDocument;
        const created = await client.send(
          new CreatePolicyCommand({
            PolicyName: resolver.physicalName(id),
            ...(typeof policy.Path === 'string' ? { Path: policy.Path } : {}),
            PolicyDocument: JSON.stringify(document),
          }),
        );
        const arn = created.Policy?.Arn;
        const expected = resolver.resolveString({ Ref: id }, `Ref ${id}`);
        if (arn !== expected)
          throw new Error(`template-iam: moto made ${arn} for ${id}, the template expects ${expected}`);
        managedPolicies.set(arn, document);
        for (const roleName of (policy.Roles ?? []) as unknown[]) {
          await attach(client, roleByName(roleName, id), arn);
        }
      }

      for (const [id, role] of stackRoles) {
        const properties = resolver.resolve(resolver.resource(id).Properties ?? {}) as Record<
          string,
          unknown
        >;
        for (const arn of (properties.ManagedPolicyArns ?? []) as string[]) await attach(client, role, arn);
      }

      for (const id of resolver.ofType('AWS::IAM::Policy')) {
        const policy = resolver.resolve(resolver.resource(id).Properties ?? {}) as Record<string, unknown>;
        if (policy.Users !== undefined || policy.Groups !== undefined) {
          throw new Error(
            `template-iam: ${id} is attached to users or groups, which the harness does not create`,
          );
        }
        for (const roleName of (policy.Roles ?? []) as unknown[]) {
          await putRolePolicy(
            client,
            roleByName(roleName, id),
            String(policy.PolicyName),
            policy.PolicyDocument as PolicyDocument,
          );
        }
      }

      Object.assign(imports, resolver.exports());
    }
  } finally {
    client.destroy();
  }

  return {
    roles,
    managedPolicies,
    resolvers,
    role(match) {
      const found = roles.filter((r) => (typeof match === 'string' ? r.arn === match : match(r)));
      if (found.length !== 1) {
        throw new Error(
          `template-iam: ${found.length} roles match (${found.map((r) => r.logicalId).join(', ')})`,
        );
      }
      return found[0] as DeployedRole;
    },
    identityPolicies(role) {
      return [
        ...role.inlinePolicies,
        ...role.managedPolicyArns.map((arn) => {
          const document = managedPolicies.get(arn);
          if (!document) throw new Error(`template-iam: ${arn} is not a policy of these templates`);
          return document;
        }),
      ];
    },
  };
}

async function putRolePolicy(client: IAMClient, role: DeployedRole, name: string, document: PolicyDocument) {
  await client.send(
    new PutRolePolicyCommand({
      RoleName: role.name,
      PolicyName: name,
      PolicyDocument: JSON.stringify(document),
    }),
  );
  role.inlinePolicies.push(document);
}

async function attach(client: IAMClient, role: DeployedRole, arn: string) {
  await client.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn }));
  role.managedPolicyArns.push(arn);
}

/** Temporary credentials of an assumed role. */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  /** The session's ARN, `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly assumedRoleArn: string;
}

export interface AssumeOptions {
  /** @default 'iwomp-test' */
  readonly sessionName?: string;
  readonly sourceIdentity?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Assumes `roleArn` through moto's STS as the admin. moto ignores source identity and session
 * tags (they are sent, as the SDK sends them); `iam-eval.ts` decides what they would allow.
 */
export async function assumeRole(
  moto: Moto,
  roleArn: string,
  options: AssumeOptions = {},
): Promise<RoleCredentials> {
  const sts = new STSClient(moto.clientConfig);
  try {
    const answer = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: options.sessionName ?? 'iwomp-test',
        ...(options.sourceIdentity === undefined ? {} : { SourceIdentity: options.sourceIdentity }),
        ...(options.tags === undefined
          ? {}
          : { Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) }),
      }),
    );
    const c = answer.Credentials;
    const assumedRoleArn = answer.AssumedRoleUser?.Arn;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration || !assumedRoleArn) {
      throw new Error(`template-iam: moto returned no credentials for ${roleArn}`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      assumedRoleArn,
    };
  } finally {
    sts.destroy();
  }
}

/** SDK v3 client settings acting as the role. */
export function roleClientConfig(moto: Moto, credentials: RoleCredentials) {
  return {
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
  };
}

/** Environment for a child process (a bundle, the aws CLI) acting as the role against moto. */
export function roleEnv(moto: Moto, credentials: RoleCredentials): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: moto.region,
    AWS_DEFAULT_REGION: moto.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}
