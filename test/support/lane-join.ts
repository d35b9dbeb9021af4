/**
 * Joins a project's lane from its own process, at a moment shared with other processes: prints
 * `ready`, waits for the file `<go>` to exist, takes a place and asks the lane (supersede mode),
 * then prints the job ids it superseded, one per line, and `decided`.
 * `node --import tsx lane-join.ts <queueDir> <project> <jobId> <branch> <go>`
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProjectQueue } from '../../src/local/project-queue.js';

const [dir, project, jobId, branch, go] = process.argv.slice(2);
if (
  dir === undefined ||
  project === undefined ||
  jobId === undefined ||
  branch === undefined ||
  go === undefined
)
  throw new Error('usage: lane-join.ts <queueDir> <project> <jobId> <branch> <go>');
const queue = new ProjectQueue(dir);
process.stdout.write('ready\n');
while (!existsSync(go)) await sleep(1);
const ticket = await queue.enqueue(project, jobId, branch);
const superseded = await queue.admit(project, ticket, 'supersede', async () => undefined);
for (const entry of superseded) process.stdout.write(`${entry.jobId}\n`);
process.stdout.write('decided\n');
// Keeps its place alive until told to go, as a trigger hands it to a living runner.
while (existsSync(go)) await sleep(5);
