import type { RegistryKey } from '../../ports/registry.js';

/**
 * The SSM parameter of a registry key: `/<configPath>/<key>`. Its own module, free of the AWS SDK,
 * so the lazily loaded SSM registry can name parameters before the SDK is loaded.
 */
export function ssmParameterName(configPath: string, key: RegistryKey): string {
  return `/${configPath}/${key}`;
}
