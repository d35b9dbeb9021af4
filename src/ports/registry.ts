import { ConfigError, ProjectNotFoundError } from '../core/errors.js';
import { DEFAULTS_KEY, parseProjectName } from '../core/names.js';
import {
  type ProjectConfig,
  type ProjectDocument,
  parseProjectDocument,
  resolveProjectConfig,
} from '../core/project-config.js';

/** A key of the registry: a project name checked by `parseProjectName`, or `_default`. */
export type RegistryKey = string;

export interface PutOptions {
  /** Store encrypted (SSM SecureString; a 0600 file locally). */
  readonly secure: boolean;
}

/**
 * Where project configurations live: SSM Parameter Store in AWS, a folder of JSON files locally.
 * Adapters store raw documents; parsing and validation stay in the core, so both behave the same.
 */
export interface Registry {
  /** Human-readable location of a key, for messages: `/iwomp-in-aws/demo` or `/path/demo.json`. */
  describe(key: RegistryKey): string;
  /** The raw document, or undefined when the key does not exist. */
  get(key: RegistryKey): Promise<string | undefined>;
  put(key: RegistryKey, document: string, options: PutOptions): Promise<void>;
  /** Project names (never `_default`), sorted. */
  list(): Promise<string[]>;
  /** Deletes a key; false when it did not exist. */
  delete(key: RegistryKey): Promise<boolean>;
}

/** The `_default` document: undefined when absent, a ConfigError when malformed (fail closed). */
export async function loadDefaults(registry: Registry): Promise<ProjectDocument | undefined> {
  return parseDefaults(registry, await registry.get(DEFAULTS_KEY));
}

function parseDefaults(registry: Registry, text: string | undefined): ProjectDocument | undefined {
  return text === undefined ? undefined : parseProjectDocument(text, registry.describe(DEFAULTS_KEY));
}

/** A project's resolved configuration, read from the registry: `_default` first, then the project. */
export async function loadProjectConfig(registry: Registry, project: string): Promise<ProjectConfig> {
  const name = parseProjectName(project);
  // Both reads at once, but their failures reported in a fixed order (defaults first): which read
  // fails first must not change the message.
  const [defaultsRead, projectRead] = await Promise.allSettled([
    registry.get(DEFAULTS_KEY),
    registry.get(name),
  ]);
  const defaultsText = settledValue(defaultsRead);
  const projectText = settledValue(projectRead);
  if (projectText === undefined) throw new ProjectNotFoundError(name, registry.describe(name));
  const defaults = parseDefaults(registry, defaultsText);
  const document = parseProjectDocument(projectText, registry.describe(name));
  try {
    return resolveProjectConfig(defaults, document);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ConfigError(`${registry.describe(name)}: ${error.message}`, { cause: error });
    throw error;
  }
}

function settledValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
