import { SDK_NODE_WARNING_OPT_OUT } from '../cli/node-support.js';
import { runCli } from '../cli/program.js';

// `iwomp projects list | head` closes stdout early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// The CLI reads its environment from this copy. The SDK reads process.env, where its nine-line
// notice about old Node.js versions is turned off: the CLI says it in one (src/cli/node-support.ts).
const env = { ...process.env };
process.env[SDK_NODE_WARNING_OPT_OUT] = 'true';

process.exitCode = await runCli(process.argv.slice(2), { env });
