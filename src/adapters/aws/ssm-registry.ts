import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { RegistryError } from '../../core/errors.js';
import { DEFAULTS_KEY } from '../../core/names.js';
import type { PutOptions, Registry, RegistryKey } from '../../ports/registry.js';
import { sdkErrorText, sdkFailure } from './sdk-error.js';
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
      throw registryError(`cannot read ${this.describe(key)} from SSM: ${sdkErrorText(error)}`, error);
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
      throw registryError(`cannot write ${this.describe(key)} to SSM: ${sdkErrorText(error)}`, error);
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
      throw registryError(`cannot list ${this.root} in SSM: ${sdkErrorText(error)}`, error);
    }
    return names.sort();
  }

  async delete(key: RegistryKey): Promise<boolean> {
    try {
      await this.ssm.send(new DeleteParameterCommand({ Name: this.describe(key) }));
      return true;
    } catch (error) {
      if (error instanceof ParameterNotFound) return false;
      throw registryError(`cannot delete ${this.describe(key)} in SSM: ${sdkErrorText(error)}`, error);
    }
  }
}

function registryError(message: string, error: unknown): RegistryError {
  return new RegistryError(message, { cause: error, category: sdkFailure(error, KMS_NEEDS_A_FIX) });
}

// SSM's own answers that a retry cannot cure: the parameter's KMS key cannot be used.
const KMS_NEEDS_A_FIX: ReadonlySet<string> = new Set([
  'InvalidKeyId',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
]);
