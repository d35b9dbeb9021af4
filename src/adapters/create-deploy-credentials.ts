import type { DeploySession } from '../core/deploy-role.js';
import type { DeployCredentials, TemporaryCredentials } from '../ports/deploy-credentials.js';

/**
 * STS-backed deploy credentials, with the SDK's STS client loaded on first use: a project without
 * a deploy role (and every local run without one) never pays for loading it.
 */
export function createDeployCredentials(): DeployCredentials {
  let adapter: Promise<DeployCredentials> | undefined;
  return {
    async assume(roleArn: string, session: DeploySession): Promise<TemporaryCredentials> {
      adapter ??= import('./aws/sts-deploy-credentials.js').then((m) => new m.StsDeployCredentials());
      return (await adapter).assume(roleArn, session);
    },
  };
}
