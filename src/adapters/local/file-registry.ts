import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RegistryError } from '../../core/errors.js';
import { DEFAULTS_KEY } from '../../core/names.js';
import type { PutOptions, Registry, RegistryKey } from '../../ports/registry.js';

/**
 * The registry as a folder of JSON files, mirroring the SSM layout: `<dir>/<project>.json` and
 * `<dir>/_default.json`. Selected with `IWOMP_REGISTRY=file:<dir>`. Keys are checked by the
 * callers (`parseProjectName`), so a key never holds a `/`.
 */
export class FileRegistry implements Registry {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  describe(key: RegistryKey): string {
    return join(this.dir, `${key}.json`);
  }

  async get(key: RegistryKey): Promise<string | undefined> {
    try {
      return await readFile(this.describe(key), 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw new RegistryError(`cannot read ${this.describe(key)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async put(key: RegistryKey, document: string, options: PutOptions): Promise<void> {
    const target = this.describe(key);
    // Write then rename: a reader sees the old document or the new one, never half of one.
    const temp = join(this.dir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(temp, document, { mode: options.secure ? 0o600 : 0o644, flag: 'wx' });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw new RegistryError(`cannot write ${target}: ${(error as Error).message}`, { cause: error });
    }
  }

  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return [];
      throw new RegistryError(`cannot list ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
    return entries
      .filter((f) => f.endsWith('.json') && !f.startsWith('.') && f !== `${DEFAULTS_KEY}.json`)
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }

  async delete(key: RegistryKey): Promise<boolean> {
    try {
      await rm(this.describe(key));
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw new RegistryError(`cannot delete ${this.describe(key)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
