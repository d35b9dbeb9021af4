import type { SSMClient } from '@aws-sdk/client-ssm';
import { EnvironmentError } from '../core/errors.js';
import type { Registry } from '../ports/registry.js';
import { SsmRegistry } from './aws/ssm-registry.js';
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
  return new SsmRegistry({ configPath, ...(clients.ssm ? { ssm: clients.ssm } : {}) });
}
