import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrokenRecord } from '../ports/job-tracker.js';
import { createFileExclusive, isTempName, writeFileAtomic } from './atomic-file.js';
import { JobNotFoundError, LocalStateError } from './errors.js';
import { type LocalJobRecord, parseJobId, recordProblem } from './job-record.js';
import { PRIVATE_FILE_MODE } from './state-dir.js';

/**
 * Job records and logs in `<state>/jobs`: `<id>.json` and `<id>.log`. Records are replaced
 * whole and atomically (see atomic-file.ts); only one process writes a given record at a time
 * (the trigger creates it, then the job's runner owns it).
 */
export class JobStore {
  constructor(
    readonly dir: string,
    /** The state directory, for messages. */
    readonly stateDir: string,
  ) {}

  recordPath(id: string): string {
    return join(this.dir, `${parseJobId(id)}.json`);
  }

  logPath(id: string): string {
    return join(this.dir, `${parseJobId(id)}.log`);
  }

  /**
   * Adds one line to a job's log from outside its runner (a newer job superseding it), so that a
   * follower sees why it ended before it sees the record end. O_APPEND: lines never overwrite.
   */
  async appendLog(id: string, line: string): Promise<void> {
    const path = this.logPath(id);
    try {
      await appendFile(path, `${line}\n`, { mode: PRIVATE_FILE_MODE });
    } catch (error) {
      throw stateError(`cannot write ${path}`, error);
    }
  }

  /** Asks the job's runner to stop the job, and says why (see `cancelReason`). */
  async requestCancel(id: string, reason: string): Promise<void> {
    const path = join(this.dir, `${parseJobId(id)}.cancel`);
    try {
      await writeFileAtomic(path, reason);
    } catch (error) {
      throw stateError(`cannot write ${path}`, error);
    }
  }

  /** Why the job was asked to stop, or undefined when nobody asked. */
  async cancelReason(id: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, `${parseJobId(id)}.cancel`), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Writes a new record; fails if the id exists already. */
  async create(record: LocalJobRecord): Promise<void> {
    let created: boolean;
    try {
      created = await createFileExclusive(this.recordPath(record.id), serialize(record));
    } catch (error) {
      throw stateError(`cannot write ${this.recordPath(record.id)}`, error);
    }
    if (!created) throw new LocalStateError(`job ${record.id} exists already`);
  }

  async write(record: LocalJobRecord): Promise<void> {
    try {
      await writeFileAtomic(this.recordPath(record.id), serialize(record));
    } catch (error) {
      throw stateError(`cannot write ${this.recordPath(record.id)}`, error);
    }
  }

  async read(id: string): Promise<LocalJobRecord> {
    const path = this.recordPath(id);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new JobNotFoundError(id, this.stateDir);
      throw stateError(`cannot read ${path}`, error);
    }
    return parseRecord(text, path);
  }

  /** Every job, newest first, and the records that could not be read. */
  async list(): Promise<{ jobs: LocalJobRecord[]; broken: BrokenRecord[] }> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { jobs: [], broken: [] };
      throw stateError(`cannot list ${this.dir}`, error);
    }
    const jobs: LocalJobRecord[] = [];
    const broken: BrokenRecord[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || isTempName(name)) continue;
      const file = join(this.dir, name);
      try {
        jobs.push(parseRecord(await readFile(file, 'utf8'), file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        broken.push({ file, problem: (error as Error).message });
      }
    }
    jobs.sort((a, b) =>
      a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt < a.createdAt ? -1 : 1,
    );
    return { jobs, broken };
  }
}

function serialize(record: LocalJobRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

function parseRecord(text: string, path: string): LocalJobRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LocalStateError(`${path} is not valid JSON`, { cause });
  }
  const problem = recordProblem(json);
  if (problem !== undefined) throw new LocalStateError(`${path}: ${problem}`);
  return json as LocalJobRecord;
}

function stateError(what: string, error: unknown): LocalStateError {
  return new LocalStateError(`${what}: ${(error as Error).message}`, { cause: error });
}
