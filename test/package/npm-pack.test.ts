import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessRun, runProcess } from '../support/process.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function run(command: string, args: string[], cwd: string): Promise<ProcessRun> {
  const result = await runProcess(command, args, { cwd });
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return result;
}

/** The files of a fresh clone (tracked, plus new files not ignored): no dist/, no node_modules. */
function copyCheckout(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '');
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    // A file deleted in the working tree but still tracked is not part of the checkout.
    try {
      cpSync(join(root, file), join(to, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  // The build tools, as `npm ci` would install them.
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'));
}

/** A CDK app as a user writes it against the installed package. */
const USER_APP = `
import { App, Duration, Stack } from 'aws-cdk-lib';
import { IwompPipeline, type IwompPipelineProps } from 'iwomp-in-aws/infra';

const props: IwompPipelineProps = { buildTimeout: Duration.minutes(30) };
// @ts-expect-error the declarations are real: a prop of the wrong type is refused
const wrong: IwompPipelineProps = { configPath: 42 };
void wrong;

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'User');
const pipeline = new IwompPipeline(stack, 'Pipeline', props);
const topicArn: string = pipeline.topic.topicArn;
void topicArn;
app.synth();
`;

describe('the npm package, packed from a fresh checkout and installed in an empty directory', () => {
  let dir: string;
  let app: string;
  let installed: string;

  beforeAll(async () => {
    // GIVEN a fresh checkout (no dist/) packed with npm pack, which runs prepack
    dir = mkdtempSync(join(tmpdir(), 'iwomp-pack-'));
    const checkout = join(dir, 'checkout');
    copyCheckout(checkout);
    await run('npm', ['pack', '--silent', '--pack-destination', dir], checkout);
    const [tarball] = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    // AND an empty project that installs the tarball (no network: it has no dependencies)
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball as string)],
      app,
    );
    installed = join(app, 'node_modules', 'iwomp-in-aws');
  }, 120_000);

  afterAll(() => {
    if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the bundles, the construct and its declarations, and no sources', () => {
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: installed, encoding: 'utf8' });
    for (const file of ['dist/cli.js', 'dist/worker.js', 'dist/launcher.js', 'dist/infra/index.js']) {
      expect(files).toContain(`./${file}\n`);
    }
    expect(files).toContain('./dist/types/infra/index.d.ts\n');
    expect(files).not.toMatch(/\.\/src\//);
    // No runtime dependencies: the bundles carry theirs, the construct's CDK is the user's.
    expect(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.'))).toEqual([
      'iwomp-in-aws',
    ]);
  });

  it('runs iwomp --help, iwomp trigger --help and iwomp projects --help', async () => {
    const bin = join(app, 'node_modules', '.bin', 'iwomp');
    // WHEN each help is asked for
    const help = await run(bin, ['--help'], app);
    const trigger = await run(bin, ['trigger', '--help'], app);
    const projects = await run(bin, ['projects', '--help'], app);
    // THEN each answers with its usage
    expect(help.stdout).toMatch(/^Usage: iwomp /m);
    expect(help.stdout).toMatch(/^\s+trigger\b/m);
    expect(help.stdout).toMatch(/^\s+projects\b/m);
    expect(trigger.stdout).toMatch(/^Usage: iwomp trigger /m);
    expect(projects.stdout).toMatch(/^Usage: iwomp projects /m);
  });

  it('gives a CDK app the construct with its types, deploying the bundles it ships', async () => {
    // GIVEN the user's own CDK (a peer dependency) and TypeScript
    for (const pkg of ['aws-cdk-lib', 'constructs']) {
      symlinkSync(join(root, 'node_modules', pkg), join(app, 'node_modules', pkg));
    }
    writeFileSync(join(app, 'app.ts'), USER_APP);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    // WHEN it is type-checked and compiled, and runs
    await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', '.'], app);
    await run(process.execPath, ['app.js'], app);
    // THEN the launcher and the worker are the package's own bundles
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'User.template.json'), 'utf8'));
    const resources = Object.values(template.Resources) as Array<{ Type: string; Properties: never }>;
    const assetOf = (key: unknown) =>
      join(app, 'cdk.out', `asset.${/([0-9a-f]{64})\.zip/.exec(JSON.stringify(key))?.[1]}`);
    const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function') as {
      Properties: { Code: { S3Key: unknown } };
    };
    expect(sha256(join(assetOf(fn.Properties.Code.S3Key), 'index.mjs'))).toBe(
      sha256(join(installed, 'dist', 'launcher.js')),
    );
    const project = resources.find((r) => r.Type === 'AWS::CodeBuild::Project') as {
      Properties: { Source: { Location: unknown }; TimeoutInMinutes: number };
    };
    expect(project.Properties.TimeoutInMinutes).toBe(30);
    const worker = assetOf(project.Properties.Source.Location);
    expect(sha256(join(worker, 'worker.js'))).toBe(sha256(join(installed, 'dist', 'worker.js')));
    expect(readdirSync(join(worker, 'chunks')).every((f) => f.startsWith('worker-'))).toBe(true);
  }, 60_000);
});
