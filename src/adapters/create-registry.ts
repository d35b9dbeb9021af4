import type { SSMClient } from '@aws-sdk/client-ssm';
import { EnvironmentError } from '../core/errors.js';
import type { PutOptions, Registry, RegistryKey } from '../ports/registry.js';
import { ssmParameterName } from './aws/ssm-parameter-name.js';
import type { SsmRegistry, SsmRegistryProps } from './aws/ssm-registry.js';
import { FileRegistry } from './local/file-registry.js';

/** Which registry adapter to use: `IWOMP_REGISTRY=ssm` (the default) or `file:<dir>`. */
export type RegistrySpec = { readonly kind: 'ssm' } | { readonly kind: 'file'; readonly dir: string };

export function parseRegistrySpec(value: string | undefined): RegistrySpec {
  const spec = value === '' ? undefined : value;
  if (spec === undefined || spec === 'ssm') return { kind: 'ssm' };
  if (spec.startsWith('file:') && spec.length > 'file:'.length)
    return { kind: 'file', dir: spec.slice('file:'.length) };
  throw new EnvironmentError('IWOMP_REGISTRY', `expected 'ssm' or 'file:<dir>', got ${JSON.stringify(spec)}`);
}

/** Builds the registry adapter an entry point asked for. */
export function createRegistry(
  spec: RegistrySpec,
  configPath: string,
  clients: { ssm?: SSMClient } = {},
): Registry {
  if (spec.kind === 'file') return new FileRegistry(spec.dir);
  return new LazySsmRegistry({ configPath, ...(clients.ssm ? { ssm: clients.ssm } : {}) });
}

/**
 * The SSM registry, with the AWS SDK loaded on first use. A run on a folder registry (local
 * mode, the CLI's `--local`) then never pays for loading the SDK: about 40 ms of each worker start.
 */
class LazySsmRegistry implements Registry {
  private adapter?: Promise<SsmRegistry>;

  constructor(private readonly props: SsmRegistryProps) {}

  describe(key: RegistryKey): string {
    return ssmParameterName(this.props.configPath, key);
  }

  private load(): Promise<SsmRegistry> {
    this.adapter ??= import('./aws/ssm-registry.js').then((m) => new m.SsmRegistry(this.props));
    return this.adapter;
  }

  async get(key: RegistryKey): Promise<string | undefined> {
    return (await this.load()).get(key);
  }

  async put(key: RegistryKey, document: string, options: PutOptions): Promise<void> {
    return (await this.load()).put(key, document, options);
  }

  async list(): Promise<string[]> {
    return (await this.load()).list();
  }

  async delete(key: RegistryKey): Promise<boolean> {
    return (await this.load()).delete(key);
  }
}
