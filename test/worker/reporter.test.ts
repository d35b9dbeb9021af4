import { describe, expect, it } from 'vitest';
import type { WorkerFields } from '../../src/adapters/aws/deploy-table-report.js';
import { fanOut, tableReporter, type WorkerFieldsWriter } from '../../src/worker/reporter.js';

const target = { tableName: 'iwomp-deploys', triggerId: 't-1' };

/** A writer that records what it was asked to write, and can be told to fail or hang. */
function recordingWriter(behaviour: (fields: WorkerFields) => Promise<void> = async () => undefined) {
  const written: WorkerFields[] = [];
  let closed = 0;
  const writer: WorkerFieldsWriter = {
    write: (fields) => {
      written.push(fields);
      return behaviour(fields);
    },
    close: () => {
      closed += 1;
    },
  };
  return { writer, written, closed: () => closed };
}

describe('tableReporter', () => {
  it('turns each report into the worker attributes it sets, in order, and closes the client at the end', async () => {
    // GIVEN a table reporter and a second channel behind one fan-out
    const { writer, written, closed } = recordingWriter();
    const other: string[] = [];
    const reporter = fanOut(
      { report: (r) => other.push(r.type), settle: async () => undefined },
      tableReporter(target, () => undefined, writer),
    );
    // WHEN the worker reports a whole deploy that failed
    reporter.report({ type: 'phase', phase: 'clone' });
    reporter.report({ type: 'checkout', commit: 'c'.repeat(40) });
    reporter.report({ type: 'phase', phase: 'command' });
    reporter.report({ type: 'command', pid: 4242 });
    reporter.report({
      type: 'outcome',
      exitCode: 3,
      reason: 'command failed with exit status 3\nsecond line',
    });
    await reporter.settle();
    // THEN both channels got every report, and the table only its attributes, the reason cut to one line
    expect(other).toEqual(['phase', 'checkout', 'phase', 'command', 'outcome']);
    expect(written).toEqual([
      { phase: 'clone' },
      { deployedCommit: 'c'.repeat(40) },
      { phase: 'command' },
      { reportedExitCode: 3, reportedReason: 'command failed with exit status 3' },
    ]);
    expect(closed()).toBe(1);
  });

  it('makes a failed write one warning line and goes on with the next', async () => {
    // GIVEN a table that refuses the first write
    const warnings: string[] = [];
    let calls = 0;
    const { writer, written } = recordingWriter(async () => {
      calls += 1;
      if (calls === 1) {
        const error = new Error('The conditional request failed\nmore');
        error.name = 'ConditionalCheckFailedException';
        throw error;
      }
    });
    const reporter = tableReporter(target, (line) => warnings.push(line), writer);
    // WHEN two reports are made
    reporter.report({ type: 'phase', phase: 'clone' });
    reporter.report({ type: 'outcome', exitCode: 0 });
    await reporter.settle();
    // THEN one warning for the first, and the second was still written
    expect(warnings).toEqual([
      'cannot report to the deploy table iwomp-deploys: ConditionalCheckFailedException: The conditional request failed',
    ]);
    expect(written).toHaveLength(2);
  });

  it('does not hold the worker up past its limit when the table does not answer', async () => {
    // GIVEN a write that never ends
    const warnings: string[] = [];
    const { writer, closed } = recordingWriter(() => new Promise<void>(() => undefined));
    const reporter = tableReporter(target, (line) => warnings.push(line), writer, 50);
    reporter.report({ type: 'outcome', exitCode: 0 });
    // WHEN the worker settles its reports
    const started = performance.now();
    await reporter.settle();
    // THEN it gave up after the limit, said so, and let go of the client
    expect(performance.now() - started).toBeLessThan(1000);
    expect(warnings).toEqual(['gave up reporting to the deploy table iwomp-deploys after 0.05s']);
    expect(closed()).toBe(1);
  });
});
