/**
 * Triggers one local job from its own process (as `iwomp trigger --local` from another shell
 * would) and prints the job id: `node --import tsx local-trigger.ts <stateDir> <project> <branch>`.
 */
import { LocalBackend } from '../../src/adapters/local/local-backend.js';

const [stateDir, project, branch] = process.argv.slice(2);
if (stateDir === undefined) throw new Error('usage: local-trigger.ts <stateDir> <project> <branch>');
const outcome = await new LocalBackend({ stateDir }).trigger({ project, branch });
if (outcome.outcome !== 'accepted') throw new Error(`rejected: ${outcome.reason}`);
process.stdout.write(`${outcome.jobId}\n`);
