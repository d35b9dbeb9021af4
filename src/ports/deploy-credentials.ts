import type { DeploySession } from '../core/deploy-role.js';

/** Short-lived AWS credentials for one deploy command. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When they stop working. */
  readonly expiration?: Date;
}

/**
 * Hands out a project's deploy role: STS AssumeRole in AWS (with the session name, source identity
 * and tags that make every change traceable to a project and commit). Throws a `DeployRoleError`
 * when the role cannot be assumed.
 */
export interface DeployCredentials {
  assume(roleArn: string, session: DeploySession): Promise<TemporaryCredentials>;
}
