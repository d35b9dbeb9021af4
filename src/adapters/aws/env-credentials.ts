import { EnvironmentError } from '../../core/errors.js';

/** What the SDK expects of a credentials provider's result. */
export interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the launcher's Lambda bundle (an esbuild
 * `alias`, see src/infra/bundle-options.ts). Lambda hands the execution role's credentials to the function in
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, so the SDK's full chain
 * (profiles, SSO, web identity, IMDS, with the STS and SSO clients they need) is dead weight there:
 * 136 KB of a 531 KB bundle. Same export name and call shape as the module it replaces.
 */
export function defaultProvider(): () => Promise<EnvCredentials> {
  return async () => readEnvCredentials(process.env);
}

/** Credentials from the environment; a missing variable is named in the error. */
export function readEnvCredentials(env: NodeJS.ProcessEnv): EnvCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const missing = !accessKeyId ? 'AWS_ACCESS_KEY_ID' : !secretAccessKey ? 'AWS_SECRET_ACCESS_KEY' : undefined;
  if (missing || !accessKeyId || !secretAccessKey) {
    throw new EnvironmentError(
      missing ?? 'AWS_ACCESS_KEY_ID',
      'is not set: the launcher bundle reads AWS credentials only from the environment, where Lambda puts them',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}
