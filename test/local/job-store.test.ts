import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { JobNotFoundError } from '../../src/local/errors.js';
import type { LocalJobRecord as JobRecord } from '../../src/local/job-record.js';
import { JobStore } from '../../src/local/job-store.js';
import { ProjectQueue } from '../../src/local/project-queue.js';

const root = mkdtempSync(join(tmpdir(), 'iwomp-job-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function record(id: string, createdAt: string): JobRecord {
  return {
    version: 1,
    id,
    project: 'app',
    branch: 'main',
    state: 'queued',
    ticket: '000000000001',
    createdAt,
  };
}

describe('JobStore', () => {
  it('replaces a record by rename: a reader that opened it before keeps the old record whole', async () => {
    // GIVEN a record, opened by a reader before it is rewritten
    const dir = join(root, 'atomic');
    const store = new JobStore(dir, root);
    const queued = record('a', '2026-01-01T00:00:00.000Z');
    await store.create(queued);
    const path = store.recordPath('a');
    const before = statSync(path).ino;
    const reader = await open(path, 'r');
    try {
      // WHEN the record is written again
      await store.write({ ...queued, state: 'succeeded', exitCode: 0 });
      // THEN the path holds a new file (another inode) with the new record, and the open file is
      // the old record, untouched: an in-place write would have truncated and rewritten it
      expect(statSync(path).ino).not.toBe(before);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ state: 'succeeded' });
      expect(JSON.parse(await reader.readFile('utf8'))).toEqual(queued);
    } finally {
      await reader.close();
    }
  });

  it('lists records newest first with their latest state, and skips temporary files a crash leaves', async () => {
    const dir = join(root, 'list');
    const store = new JobStore(dir, root);
    await store.create(record('a', '2026-01-01T00:00:00.000Z'));
    await store.create(record('b', '2026-01-02T00:00:00.000Z'));
    await store.write({ ...record('a', '2026-01-01T00:00:00.000Z'), state: 'succeeded', exitCode: 0 });
    // What a crash between write and rename leaves behind: a half-written temporary file.
    writeFileSync(join(dir, '.c.json.0a1b2c.tmp'), '{"version":1,"id":"c"');

    const { jobs, broken } = await store.list();
    expect(jobs.map((j) => [j.id, j.state])).toEqual([
      ['b', 'queued'],
      ['a', 'succeeded'],
    ]);
    expect(broken).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual(['.c.json.0a1b2c.tmp']);
  });

  it('reports a broken record by file instead of hiding the other jobs', async () => {
    const dir = join(root, 'broken');
    const store = new JobStore(dir, root);
    await store.create(record('good', '2026-01-01T00:00:00.000Z'));
    writeFileSync(join(dir, 'bad.json'), '{"version":1}');
    const { jobs, broken } = await store.list();
    expect(jobs.map((j) => j.id)).toEqual(['good']);
    expect(broken).toEqual([
      { file: join(dir, 'bad.json'), problem: expect.stringMatching(/bad\.json: id: /) },
    ]);
  });

  it('refuses to create a job id twice', async () => {
    const store = new JobStore(join(root, 'twice'), root);
    await store.create(record('x', '2026-01-01T00:00:00.000Z'));
    await expect(store.create(record('x', '2026-01-01T00:00:00.000Z'))).rejects.toThrow(
      /job x exists already/,
    );
  });

  it('names a missing job, and refuses ids that could leave the jobs folder', async () => {
    const store = new JobStore(join(root, 'ids'), root);
    await expect(store.read('nope')).rejects.toThrow(JobNotFoundError);
    await expect(store.read('nope')).rejects.toThrow(`no local job 'nope' in ${root}`);
    for (const id of ['../x', '.hidden', 'a/b', '']) {
      await expect(store.read(id)).rejects.toThrow(InvalidInputError);
    }
  });
});

describe('ProjectQueue', () => {
  it('gives concurrent triggers distinct places, each above every place already taken', async () => {
    const queue = new ProjectQueue(join(root, 'queue'));
    const first = await queue.enqueue('app', 'job-0', 'main');
    const tickets = await Promise.all(
      Array.from({ length: 20 }, (_, i) => queue.enqueue('app', `job-${i + 1}`, 'main')),
    );
    expect(new Set(tickets).size).toBe(20);
    expect(tickets.every((t) => t > first)).toBe(true);
    expect(readdirSync(join(root, 'queue', 'app'))).toHaveLength(21);
  });

  it('refuses an entry that is not one it wrote, naming the file', async () => {
    const queue = new ProjectQueue(join(root, 'queue-bad'));
    mkdirSync(join(root, 'queue-bad', 'app'), { recursive: true });
    writeFileSync(join(root, 'queue-bad', 'app', '000000000001'), 'garbage');
    const ticket = await queue.enqueue('app', 'job', 'main');
    await expect(queue.waitTurn('app', ticket, 'job')).rejects.toThrow(
      /000000000001 is not a queue entry: remove it/,
    );
  });
});
