import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { EnvironmentError, RegistryError, type ServiceFailure } from '../../core/errors.js';
import { DEFAULTS_KEY } from '../../core/names.js';
import type { PutOptions, Registry, RegistryKey } from '../../ports/registry.js';
import { ssmParameterName } from './ssm-parameter-name.js';

export interface SsmRegistryProps {
  /** Registry root, already checked by `parseConfigPath` (no leading or trailing `/`). */
  readonly configPath: string;
  /**
   * SSM client to use.
   * @default - a client from the SDK's default chain (region, credentials, AWS_ENDPOINT_URL).
   */
  readonly ssm?: SSMClient;
}

/** The registry in SSM Parameter Store: one JSON parameter per project under `/<configPath>/`. */
export class SsmRegistry implements Registry {
  private readonly ssm: SSMClient;
  private readonly root: string;
  private readonly configPath: string;

  constructor(props: SsmRegistryProps) {
    this.ssm = props.ssm ?? new SSMClient({});
    this.configPath = props.configPath;
    this.root = `/${props.configPath}`;
  }

  describe(key: RegistryKey): string {
    return ssmParameterName(this.configPath, key);
  }

  async get(key: RegistryKey): Promise<string | undefined> {
    try {
      const out = await this.ssm.send(
        new GetParameterCommand({ Name: this.describe(key), WithDecryption: true }),
      );
      return out.Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw registryError(`cannot read ${this.describe(key)} from SSM: ${errorText(error)}`, error);
    }
  }

  async put(key: RegistryKey, document: string, options: PutOptions): Promise<void> {
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: this.describe(key),
          Value: document,
          Type: options.secure ? 'SecureString' : 'String',
          Overwrite: true,
          // Documents with an SSH key can pass the 4 KB standard tier limit.
          Tier: 'Intelligent-Tiering',
        }),
      );
    } catch (error) {
      throw registryError(`cannot write ${this.describe(key)} to SSM: ${errorText(error)}`, error);
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      let token: string | undefined;
      do {
        const out = await this.ssm.send(
          new GetParametersByPathCommand({ Path: this.root, Recursive: false, NextToken: token }),
        );
        for (const p of out.Parameters ?? []) {
          const name = p.Name?.slice(this.root.length + 1);
          if (name && name !== DEFAULTS_KEY) names.push(name);
        }
        token = out.NextToken;
      } while (token);
    } catch (error) {
      throw registryError(`cannot list ${this.root} in SSM: ${errorText(error)}`, error);
    }
    return names.sort();
  }

  async delete(key: RegistryKey): Promise<boolean> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: this.describe(key) }));
      return true;
    } catch (error) {
      if (error instanceof ParameterNotFound) return false;
      throw registryError(`cannot delete ${this.describe(key)} in SSM: ${errorText(error)}`, error);
    }
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return String(error);
}

function registryError(message: string, error: unknown): RegistryError {
  return new RegistryError(message, { cause: error, category: failureOf(error) });
}

// SSM answers that a retry cannot cure: the caller may not read the parameter or decrypt it with
// its KMS key, or has no valid credentials at all. Everything else (throttling, 5xx, network) may pass.
const NEEDS_A_FIX = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidKeyId',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
]);

/** Whether a failed SSM call can pass by waiting, decided here, where the SDK's error is known. */
function failureOf(error: unknown): ServiceFailure {
  // The Lambda's credential provider (env-credentials.ts) throws this when it has no credentials.
  if (error instanceof EnvironmentError) return 'misconfigured';
  const name = error instanceof Error ? error.name : undefined;
  return name !== undefined && NEEDS_A_FIX.has(name) ? 'misconfigured' : 'unavailable';
}
