import { isAbsolute, resolve } from 'node:path';
import { parseRegistrySpec, type RegistrySpec } from '../adapters/create-registry.js';
import { EnvironmentError } from '../core/errors.js';
import { DEFAULT_CONFIG_PATH, parseConfigPath } from '../core/names.js';
import { DEFAULT_STATE_DIR } from '../local/state-dir.js';

export type BackendKind = 'aws' | 'local';

/** The seed's stack name: its `JobTopicArn` output is the topic. */
export const DEFAULT_STACK_NAME = 'iwomp';

/** The CLI's environment, read once. Flags override it (see `resolveSettings`). */
export interface CliSettings {
  /** `--local`, else `IWOMP_BACKEND` (`aws` or `local`). @default 'aws' */
  readonly backend: BackendKind;
  /**
   * `IWOMP_REGISTRY` when set (`ssm` or `file:<dir>`).
   * @default - SSM for the AWS backend, `<stateDir>/registry` for the local one.
   */
  readonly registry: RegistrySpec;
  /** `--config-path`, else `CONFIGPATH`: the SSM path holding the projects. @default 'iwomp-in-aws' */
  readonly configPath: string;
  /** `IWOMP_STATE_DIR`, absolute. @default - `.iwomp` in the working directory */
  readonly stateDir: string;
  /** `IWOMPINAWS_TOPIC_ARN`: the topic to publish triggers to. */
  readonly topicArn?: string;
  /** `IWOMPINAWS_DEPLOY_TABLE`: the deploy table (`trigger --wait`, `deploys` in AWS). */
  readonly deployTable?: string;
  /** `IWOMPINAWS_WORKER_LOG_GROUP`: the worker's log group (`--logs`, `deploys logs` in AWS). */
  readonly workerLogGroup?: string;
}

export interface GlobalFlags {
  readonly local?: boolean;
  readonly configPath?: string;
}

export function resolveSettings(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  flags: GlobalFlags,
): CliSettings {
  const backend = flags.local ? 'local' : parseBackend(env.IWOMP_BACKEND);
  const stateDirValue = nonEmpty(env.IWOMP_STATE_DIR) ?? DEFAULT_STATE_DIR;
  const stateDir = isAbsolute(stateDirValue) ? stateDirValue : resolve(cwd, stateDirValue);
  const registryValue = nonEmpty(env.IWOMP_REGISTRY);
  let registry: RegistrySpec;
  if (registryValue !== undefined) {
    const spec = parseRegistrySpec(registryValue);
    registry = spec.kind === 'file' ? { kind: 'file', dir: resolve(cwd, spec.dir) } : spec;
  } else {
    registry = backend === 'local' ? { kind: 'file', dir: resolve(stateDir, 'registry') } : { kind: 'ssm' };
  }
  const configPathValue = flags.configPath ?? nonEmpty(env.CONFIGPATH) ?? DEFAULT_CONFIG_PATH;
  let configPath: string;
  try {
    configPath = parseConfigPath(configPathValue);
  } catch (error) {
    if (flags.configPath !== undefined) throw error;
    throw new EnvironmentError('CONFIGPATH', (error as Error).message, { cause: error });
  }
  const topicArn = nonEmpty(env.IWOMPINAWS_TOPIC_ARN);
  const deployTable = nonEmpty(env.IWOMPINAWS_DEPLOY_TABLE);
  const workerLogGroup = nonEmpty(env.IWOMPINAWS_WORKER_LOG_GROUP);
  return {
    backend,
    registry,
    configPath,
    stateDir,
    ...(topicArn === undefined ? {} : { topicArn }),
    ...(deployTable === undefined ? {} : { deployTable }),
    ...(workerLogGroup === undefined ? {} : { workerLogGroup }),
  };
}

function parseBackend(value: string | undefined): BackendKind {
  const v = nonEmpty(value);
  if (v === undefined || v === 'aws') return 'aws';
  if (v === 'local') return 'local';
  throw new EnvironmentError('IWOMP_BACKEND', `expected 'aws' or 'local', got ${JSON.stringify(v)}`);
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
