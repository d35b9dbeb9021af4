import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PATH } from '../core/names.js';
import { runJob } from '../local/run-job.js';

/**
 * The job runner of local mode, started detached by the process job launcher, one per job:
 * `local-runner --state-dir=<dir> --job=<id> --config-path=<path> --registry=<spec> -- <worker argv…>`.
 * Its exit code is its own (0 when it recorded the job's end); the job's is in the record.
 */
const { values, positionals } = parseArgs({
  options: {
    'state-dir': { type: 'string' },
    job: { type: 'string' },
    'config-path': { type: 'string' },
    registry: { type: 'string' },
  },
  allowPositionals: true,
});
const stateDir = values['state-dir'];
const jobId = values.job;
if (stateDir === undefined || jobId === undefined || positionals.length === 0) {
  process.stderr.write(
    'usage: local-runner --state-dir=<dir> --job=<id> [--config-path=<path>] [--registry=ssm|file:<dir>] -- <worker argv>\n',
  );
  process.exitCode = 2;
} else {
  const record = await runJob({
    stateDir,
    jobId,
    configPath: values['config-path'] ?? DEFAULT_CONFIG_PATH,
    ...(values.registry === undefined ? {} : { registry: values.registry }),
    workerCommand: positionals,
    env: process.env,
  });
  process.exitCode = record.state === 'queued' || record.state === 'running' ? 1 : 0;
}
