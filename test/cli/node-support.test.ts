import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsupportedNodeNotice } from '../../src/cli/node-support.js';
import { runCliProcess } from '../support/cli.js';

const NOTICE = (version: string) =>
  `iwomp: warning: Node.js ${version} is not supported (end of life); use Node.js 22 or 24\n`;
const REGION =
  "iwomp: cannot describe stack 'iwomp': Error: Region is missing: set AWS_REGION (or a region in your AWS profile), or use --local for the local backend\n";

let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'iwomp-node-support-'));
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('supported Node.js versions', () => {
  it('package.json says 22 and later', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=22');
  });

  it.each([
    ['v20.20.2', NOTICE('v20.20.2')],
    ['v18.0.0', NOTICE('v18.0.0')],
    ['v22.0.0', undefined],
    ['v24.11.1', undefined],
  ])('Node.js %s: notice %j', (version, expected) => {
    expect(unsupportedNodeNotice({}, version)).toBe(expected);
  });

  it("the SDK's own opt-out silences the notice too", () => {
    expect(
      unsupportedNodeNotice({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, 'v20.0.0'),
    ).toBe(undefined);
  });

  it("an AWS command prints at most one line about the Node.js version, never the SDK's notice", async () => {
    // GIVEN the built CLI, no opt-out, and no region (so the AWS call fails at once, offline)
    // WHEN a command makes two SDK clients (SNS, CloudFormation)
    const run = await runCliProcess(['trigger', 'demo', 'main', '--no-commit'], {
      env: { HOME: home },
      cwd: home,
    });
    // THEN under a supported Node.js only the failure shows; under an older one, one line before it
    const major = Number.parseInt(process.versions.node, 10);
    expect(run.stderr).toBe(major >= 22 ? REGION : `${NOTICE(process.version)}${REGION}`);
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
