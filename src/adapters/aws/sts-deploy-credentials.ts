import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { DeploySession } from '../../core/deploy-role.js';
import { DeployRoleError } from '../../core/errors.js';
import type { DeployCredentials, TemporaryCredentials } from '../../ports/deploy-credentials.js';

export interface StsDeployCredentialsProps {
  /**
   * STS client to use.
   * @default - a client from the SDK's default chain (the worker role's credentials, the region)
   */
  readonly sts?: STSClient;
  /**
   * How long the credentials last. The worker's own credentials are a role session, so this is
   * role chaining, which AWS caps at one hour.
   * @default 3600
   */
  readonly durationSeconds?: number;
}

/** Deploy roles through STS AssumeRole, from the worker role's own credentials. */
export class StsDeployCredentials implements DeployCredentials {
  private readonly sts: STSClient;
  private readonly durationSeconds: number;

  constructor(props: StsDeployCredentialsProps = {}) {
    this.sts = props.sts ?? new STSClient({});
    this.durationSeconds = props.durationSeconds ?? 3600;
  }

  async assume(roleArn: string, session: DeploySession): Promise<TemporaryCredentials> {
    let out: AssumeRoleCommandOutput;
    try {
      out = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: session.sessionName,
          SourceIdentity: session.sourceIdentity,
          Tags: [...session.tags],
          DurationSeconds: this.durationSeconds,
        }),
      );
    } catch (error) {
      const detail =
        error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
      throw new DeployRoleError(
        `cannot assume the deploy role ${roleArn}: ${detail} (the role must trust the worker's role ` +
          'and allow it sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession)',
        { cause: error },
      );
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new DeployRoleError(`STS assumed ${roleArn} but returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  }
}
