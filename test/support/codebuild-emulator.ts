/**
 * CodeBuild, emulated on this machine: takes the `AWS::CodeBuild::Project` of a synthesized stack
 * (its buildspec, environment variables and S3 source asset from the cloud assembly), unpacks the
 * asset into a fresh source directory and runs the buildspec's phases with bash, with CodeBuild's
 * variables, the project's, the test's overrides, and a loopback stand-in for CodeBuild's
 * container credentials endpoint. moto cannot run builds; this is how tests run the worker "in
 * CodeBuild" from its asset alone.
 *
 * Buildspec support (version 0.2): phases install, pre_build, build, post_build in that order in
 * ONE bash shell (variables and the working directory carry over, as in 0.2); each phase's
 * `commands` stop at the first failure, its `finally` commands always run; `on-failure: ABORT`
 * (default) after install or pre_build ends the build, after build still runs post_build
 * (CODEBUILD_BUILD_SUCCEEDING=0), `CONTINUE` goes on; `env.variables`; top-level `run-as` (the
 * whole shell runs as that user). Variable precedence as CodeBuild documents it: StartBuild
 * overrides, then the project's variables, then the buildspec's `env.variables`.
 *
 * Deliberately NOT emulated, and reported in `BuildResult.notes` when met: `install.runtime-versions`
 * (this machine's node runs), `artifacts`, `reports`, `cache`. Refused (throws): `env.parameter-store`,
 * `env.secrets-manager`, `env.shell` other than bash, per-phase `run-as`, batch builds, variables of
 * type PARAMETER_STORE or SECRETS_MANAGER, sources other than S3 and NO_SOURCE, buildspec files.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type CfnTemplate, TemplateResolver } from './cfn-resolve.js';
import type { Moto } from './moto.js';
import { assumeRole, type RoleCredentials } from './template-iam.js';

/** A stack as synthesized: its template and where its assets are. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** The cloud assembly directory (asset paths are relative to it). */
  readonly assemblyDir: string;
  /** The stack's asset manifest (`<stack>.assets.json`). */
  readonly assetManifestFile: string;
}

/** What `app.synth()` returns, as far as the emulator reads it. */
interface CloudAssemblyLike {
  readonly directory: string;
  getStackByName(name: string): {
    readonly stackName: string;
    readonly template: unknown;
    readonly dependencies: ReadonlyArray<{
      readonly manifest: { readonly type: string };
      readonly file?: string;
    }>;
  };
}

/** The stack `stackName` of a synthesized cloud assembly (`app.synth()`), with its asset manifest. */
export function stackFromAssembly(assembly: CloudAssemblyLike, stackName: string): SynthesizedStack {
  const stack = assembly.getStackByName(stackName);
  const manifest = stack.dependencies.find((d) => d.manifest.type === 'cdk:asset-manifest');
  if (!manifest?.file)
    throw new Error(`codebuild-emulator: ${stackName} has no asset manifest (legacy synthesis?)`);
  return {
    stackName: stack.stackName,
    template: stack.template as CfnTemplate,
    assemblyDir: assembly.directory,
    assetManifestFile: isAbsolute(manifest.file) ? manifest.file : join(assembly.directory, manifest.file),
  };
}

/** A buildspec, version 0.2, as the emulator reads it. */
export interface BuildSpec {
  readonly version: string | number;
  readonly 'run-as'?: string;
  readonly env?: { readonly variables?: Record<string, string>; readonly [other: string]: unknown };
  readonly phases?: Partial<Record<PhaseName, BuildPhase>>;
  readonly [other: string]: unknown;
}

export interface BuildPhase {
  readonly commands?: readonly string[];
  readonly finally?: readonly string[];
  readonly 'on-failure'?: 'ABORT' | 'CONTINUE';
  readonly 'runtime-versions'?: Record<string, string | number>;
  readonly [other: string]: unknown;
}

export const PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type PhaseName = (typeof PHASES)[number];

/** The CodeBuild project of a template, resolved for one account and region. */
export interface EmulatedProject {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly account: string;
  /** The project's service role: the credentials endpoint serves this role. */
  readonly serviceRoleArn: string;
  readonly image: string;
  readonly computeType: string;
  /** KMS key of the project (`EncryptionKey`), as CODEBUILD_KMS_KEY_ID shows it. */
  readonly encryptionKey?: string;
  readonly buildSpec: BuildSpec;
  /** The project's PLAINTEXT environment variables. */
  readonly environmentVariables: Readonly<Record<string, string>>;
  /** The S3 source: the asset it was synthesized from (a directory or a zip file). */
  readonly source:
    | { readonly type: 'S3'; readonly bucket: string; readonly key: string; readonly assetPath: string }
    | { readonly type: 'NO_SOURCE' };
}

export interface LoadOptions {
  readonly account: string;
  readonly region: string;
  /** Picks the project when the stack has several: by logical id and resource. @default - the only one */
  readonly select?: (
    logicalId: string,
    resource: { Type: string; Properties?: Record<string, unknown> },
  ) => boolean;
  /** Values for references the resolver cannot derive (see cfn-resolve.ts). */
  readonly refs?: Readonly<Record<string, string>>;
  readonly imports?: Readonly<Record<string, string>>;
}

/**
 * Reads the CodeBuild project of a synthesized stack: found by type (and `select`), never by a
 * fixed logical id, so refactoring the construct does not break the harness.
 */
export function loadCodeBuildProject(stack: SynthesizedStack, options: LoadOptions): EmulatedProject {
  const resolver = new TemplateResolver(stack.template, {
    stackName: stack.stackName,
    account: options.account,
    region: options.region,
    ...(options.refs ? { refs: options.refs } : {}),
    ...(options.imports ? { imports: options.imports } : {}),
  });
  const candidates = resolver
    .ofType('AWS::CodeBuild::Project')
    .filter((id) => options.select?.(id, resolver.resource(id)) ?? true);
  if (candidates.length !== 1) {
    throw new Error(
      `codebuild-emulator: expected one CodeBuild project in ${stack.stackName}, found ${candidates.length} (${candidates.join(', ')})`,
    );
  }
  const logicalId = candidates[0] as string;
  const properties = resolver.resource(logicalId).Properties ?? {};
  // Resolve piece by piece: only what the emulator reads must resolve.
  const source = properties.Source as Record<string, unknown> | undefined;
  const environment = properties.Environment as Record<string, unknown> | undefined;
  if (!source || !environment)
    throw new Error(`codebuild-emulator: ${logicalId} has no Source or Environment`);
  if (properties.SecondarySources !== undefined) {
    throw new Error(
      `codebuild-emulator: ${logicalId} has secondary sources, which the emulator does not fetch`,
    );
  }
  if (source.BuildSpec === undefined) {
    throw new Error(
      `codebuild-emulator: ${logicalId} reads its buildspec from the source, which the emulator does not`,
    );
  }
  const buildSpec = parseBuildSpec(resolver.resolveString(source.BuildSpec, 'Source.BuildSpec'));

  const variables: Record<string, string> = {};
  for (const variable of (resolver.resolve(environment.EnvironmentVariables) ?? []) as Array<{
    Name: string;
    Type?: string;
    Value: string;
  }>) {
    if ((variable.Type ?? 'PLAINTEXT') !== 'PLAINTEXT') {
      throw new Error(
        `codebuild-emulator: variable ${variable.Name} is ${variable.Type}, which the emulator does not resolve`,
      );
    }
    variables[variable.Name] = String(variable.Value);
  }

  const name = resolver.physicalName(logicalId);
  const encryptionKey =
    properties.EncryptionKey === undefined
      ? undefined
      : resolver.resolveString(properties.EncryptionKey, 'EncryptionKey');
  return {
    logicalId,
    name,
    arn: resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'Arn'] }, `${logicalId}.Arn`),
    account: options.account,
    region: options.region,
    serviceRoleArn: resolver.resolveString(properties.ServiceRole, 'ServiceRole'),
    image: resolver.resolveString(environment.Image, 'Environment.Image'),
    computeType: resolver.resolveString(environment.ComputeType, 'Environment.ComputeType'),
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
    buildSpec,
    environmentVariables: variables,
    source: resolveSource(stack, resolver, source, logicalId),
  };
}

function resolveSource(
  stack: SynthesizedStack,
  resolver: TemplateResolver,
  source: Record<string, unknown>,
  logicalId: string,
): EmulatedProject['source'] {
  const type = resolver.resolveString(source.Type, 'Source.Type');
  if (type === 'NO_SOURCE') return { type };
  if (type !== 'S3')
    throw new Error(
      `codebuild-emulator: ${logicalId} has a ${type} source; the emulator reads S3 assets only`,
    );
  const location = resolver.resolveString(source.Location, 'Source.Location');
  const slash = location.indexOf('/');
  const bucket = location.slice(0, slash);
  const key = location.slice(slash + 1);
  // The asset whose published object is this key: the manifest says where its files are.
  const manifest = JSON.parse(readFileSync(stack.assetManifestFile, 'utf8')) as {
    files?: Record<
      string,
      { source: { path?: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }
    >;
  };
  const asset = Object.values(manifest.files ?? {}).find((file) =>
    Object.values(file.destinations).some((d) => d.objectKey === key),
  );
  if (!asset?.source.path)
    throw new Error(`codebuild-emulator: no asset of ${stack.stackName} is published as ${key}`);
  const assetPath = join(stack.assemblyDir, asset.source.path);
  if (!existsSync(assetPath)) {
    throw new Error(
      `codebuild-emulator: asset ${assetPath} is missing (was the stack synthesized with bundling skipped?)`,
    );
  }
  return { type: 'S3', bucket, key, assetPath };
}

const TOP_LEVEL = new Set(['version', 'run-as', 'env', 'phases', 'artifacts', 'reports', 'cache', 'proxy']);
const PHASE_KEYS = new Set(['commands', 'finally', 'on-failure', 'runtime-versions', 'run-as']);
const ENV_KEYS = new Set(['variables', 'shell', 'exported-variables']);

/** Parses and checks an inline buildspec (JSON or YAML); what the emulator cannot honour throws. */
export function parseBuildSpec(text: string): BuildSpec {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    spec = parseYaml(text);
  }
  if (spec === null || typeof spec !== 'object')
    throw new Error('codebuild-emulator: the buildspec is not a mapping');
  const s = spec as BuildSpec;
  if (String(s.version) !== '0.2')
    throw new Error(`codebuild-emulator: buildspec version ${String(s.version)}; only 0.2 is emulated`);
  for (const key of Object.keys(s)) {
    if (!TOP_LEVEL.has(key)) throw new Error(`codebuild-emulator: buildspec key ${key} is not emulated`);
  }
  for (const key of Object.keys(s.env ?? {})) {
    if (!ENV_KEYS.has(key)) throw new Error(`codebuild-emulator: buildspec env.${key} is not emulated`);
  }
  if (s.env?.shell !== undefined && s.env.shell !== 'bash') {
    throw new Error(`codebuild-emulator: env.shell ${String(s.env.shell)}; only bash is emulated`);
  }
  for (const name of Object.keys(s.phases ?? {})) {
    if (!(PHASES as readonly string[]).includes(name))
      throw new Error(`codebuild-emulator: unknown phase ${name}`);
    const phase = s.phases?.[name as PhaseName] ?? {};
    for (const key of Object.keys(phase)) {
      if (!PHASE_KEYS.has(key)) throw new Error(`codebuild-emulator: ${name}.${key} is not emulated`);
    }
    if (phase['run-as'] !== undefined) {
      // One shell carries the build's state across phases; it cannot change user halfway.
      throw new Error(`codebuild-emulator: ${name}.run-as is not emulated; use the top-level run-as`);
    }
    if (phase['runtime-versions'] !== undefined && name !== 'install') {
      throw new Error(`codebuild-emulator: runtime-versions belongs in install, found in ${name}`);
    }
    const onFailure = phase['on-failure'];
    if (onFailure !== undefined && onFailure !== 'ABORT' && onFailure !== 'CONTINUE') {
      throw new Error(`codebuild-emulator: ${name}.on-failure ${String(onFailure)}`);
    }
    for (const list of [phase.commands, phase.finally]) {
      if (list !== undefined && (!Array.isArray(list) || list.some((c) => typeof c !== 'string'))) {
        throw new Error(`codebuild-emulator: ${name} commands must be a list of strings`);
      }
    }
  }
  return s;
}

// --- container credentials -----------------------------------------------------------------------

/** A loopback stand-in for CodeBuild's credentials endpoint, serving one role's credentials. */
export interface ContainerCredentials {
  /** `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`, for the build's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The role session the endpoint serves (`arn:aws:sts::…:assumed-role/<role>/<session>`). */
  readonly sessionArn: string;
  /** Requests answered with credentials, and requests refused (wrong or missing token). */
  readonly served: { ok: number; refused: number };
  stop(): Promise<void>;
}

/**
 * Serves `roleArn`'s credentials, assumed through moto's STS as the admin with CodeBuild's
 * session name (`AWSCodeBuild-<build uuid>`), to whoever presents the token: what the SDK's
 * container credential provider does inside CodeBuild.
 */
export async function startContainerCredentials(
  moto: Moto,
  roleArn: string,
  options: { sessionName?: string } = {},
): Promise<ContainerCredentials> {
  const sessionName = options.sessionName ?? `AWSCodeBuild-${randomUUID()}`;
  let credentials: RoleCredentials = await assumeRole(moto, roleArn, { sessionName });
  const token = randomBytes(24).toString('hex');
  const path = `/v2/credentials/${randomUUID()}`;
  const served = { ok: 0, refused: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.url !== path || req.headers.authorization !== token) {
        served.refused++;
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"forbidden"}');
        return;
      }
      if (credentials.expiration.getTime() - Date.now() < 5 * 60_000) {
        credentials = await assumeRole(moto, roleArn, { sessionName });
      }
      served.ok++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          AccessKeyId: credentials.accessKeyId,
          SecretAccessKey: credentials.secretAccessKey,
          Token: credentials.sessionToken,
          Expiration: credentials.expiration.toISOString(),
          RoleArn: roleArn,
        }),
      );
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}${path}`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
    },
    sessionArn: credentials.assumedRoleArn,
    served,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --- running a build -------------------------------------------------------------------------------

export interface RunBuildOptions {
  /** StartBuild's `environmentVariablesOverride`: highest precedence (PROJECTNAME, GITBRANCH, …). */
  readonly overrides?: Readonly<Record<string, string>>;
  /**
   * The container's own environment beside CodeBuild's (lowest precedence), e.g. moto's
   * `AWS_ENDPOINT_URL`. Never credentials: those come from `credentials`.
   */
  readonly containerEnv?: Readonly<Record<string, string>>;
  /** The credentials endpoint the build's SDK calls. @default - none: the build has no AWS credentials */
  readonly credentials?: ContainerCredentials;
  /** `CODEBUILD_INITIATOR`. @default 'iwomp-launcher' */
  readonly initiator?: string;
  /** @default 120_000 */
  readonly timeoutMs?: number;
  /** Keep the build's directory (source and scratch) after the build. @default false */
  readonly keep?: boolean;
  /**
   * Buildspec commands not run (each one reported in `notes`), e.g. an install that would reach
   * the network: `[/^npm install --global .*aws-cdk@/]`, with the tool put on PATH by the test.
   * @default - every command runs
   */
  readonly skipCommands?: readonly RegExp[];
  /**
   * Called with the unpacked source directory before the build runs: a test may change the source
   * as whoever could write the S3 object would.
   */
  readonly beforeBuild?: (srcDir: string) => void;
}

export interface PhaseResult {
  readonly phase: PhaseName;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  /** Exit code of the first failing command (0 when it succeeded, undefined when skipped). */
  readonly exitCode?: number;
}

export interface BuildResult {
  readonly buildId: string;
  readonly buildArn: string;
  /** 0 when every phase succeeded; else the exit code of the first failing command. */
  readonly exitCode: number;
  readonly succeeded: boolean;
  readonly phases: readonly PhaseResult[];
  readonly stdout: string;
  readonly stderr: string;
  /** `CODEBUILD_SRC_DIR` (gone unless `keep`). */
  readonly srcDir: string;
  /** What the emulator skipped on purpose (runtime-versions, artifacts, …), one line each. */
  readonly notes: readonly string[];
}

/** Runs one build of `project` as CodeBuild would, on this machine. */
export async function runBuild(
  project: EmulatedProject,
  options: RunBuildOptions = {},
): Promise<BuildResult> {
  const spec = project.buildSpec;
  const notes = skippedNotes(spec);
  const skip = (command: string): boolean => {
    const skipped = (options.skipCommands ?? []).some((pattern) => pattern.test(command));
    if (skipped) notes.push(`command skipped (skipCommands): ${command}`);
    return skipped;
  };
  for (const name of Object.keys({ ...options.overrides, ...options.containerEnv })) {
    if (name.startsWith('CODEBUILD_'))
      throw new Error(`codebuild-emulator: ${name} is reserved for CodeBuild`);
  }
  for (const name of Object.keys(options.containerEnv ?? {})) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE)$/.test(name)) {
      throw new Error(
        `codebuild-emulator: ${name} in containerEnv; CodeBuild hands credentials through its endpoint`,
      );
    }
  }
  const runAs = spec['run-as'] === undefined ? undefined : userIds(spec['run-as']);

  const uuid = randomUUID();
  const buildId = `${project.name}:${uuid}`;
  const buildArn = `arn:aws:codebuild:${project.region}:${project.account}:build/${buildId}`;
  const workDir = mkdtempSync(join(tmpdir(), 'iwomp-codebuild-'));
  // Traversable by a run-as user, as CodeBuild's own source directory is.
  chmodSync(workDir, 0o755);
  const srcDir = join(workDir, 'src');
  mkdirSync(srcDir);
  try {
    if (project.source.type === 'S3') unpack(project.source.assetPath, srcDir);
    options.beforeBuild?.(srcDir);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      ...options.containerEnv,
      AWS_REGION: project.region,
      AWS_DEFAULT_REGION: project.region,
      ...options.credentials?.env,
      ...spec.env?.variables,
      ...project.environmentVariables,
      ...options.overrides,
      CODEBUILD_BUILD_ID: buildId,
      CODEBUILD_BUILD_ARN: buildArn,
      CODEBUILD_BUILD_NUMBER: '1',
      CODEBUILD_BUILD_IMAGE: project.image,
      CODEBUILD_BUILD_SUCCEEDING: '1',
      CODEBUILD_INITIATOR: options.initiator ?? 'iwomp-launcher',
      CODEBUILD_LOG_PATH: uuid,
      CODEBUILD_SRC_DIR: srcDir,
      CODEBUILD_START_TIME: String(Date.now()),
      ...(project.encryptionKey === undefined ? {} : { CODEBUILD_KMS_KEY_ID: project.encryptionKey }),
      ...(project.source.type === 'S3'
        ? { CODEBUILD_SOURCE_VERSION: `arn:aws:s3:::${project.source.bucket}/${project.source.key}` }
        : {}),
    };
    const run = await runShell(buildScript(spec, skip), env, runAs, options.timeoutMs ?? 120_000);
    const phases = phaseResults(spec, run.statusLines, run.code);
    const failed = phases.find((p) => p.status === 'FAILED');
    return {
      buildId,
      buildArn,
      exitCode: failed ? (failed.exitCode ?? 1) : 0,
      succeeded: failed === undefined,
      phases,
      stdout: run.stdout,
      stderr: run.stderr,
      srcDir,
      notes,
    };
  } finally {
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
}

function skippedNotes(spec: BuildSpec): string[] {
  const notes: string[] = [];
  const runtimes = spec.phases?.install?.['runtime-versions'];
  if (runtimes !== undefined) {
    notes.push(
      `install.runtime-versions ${JSON.stringify(runtimes)} not applied: commands run with this machine's tools (node ${process.version})`,
    );
  }
  for (const key of ['artifacts', 'reports', 'cache', 'proxy'] as const) {
    if (spec[key] !== undefined) notes.push(`${key} ignored: the emulator uploads and caches nothing`);
  }
  if (spec.env?.['exported-variables'] !== undefined) notes.push('env.exported-variables ignored');
  return notes;
}

function userIds(name: string): { uid: number; gid: number } {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `codebuild-emulator: run-as user ${name} does not exist here (see ensureUnprivilegedUser)`,
    );
  }
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function unpack(assetPath: string, srcDir: string): void {
  if (statSync(assetPath).isDirectory()) {
    // A directory asset is zipped when published and unzipped by CodeBuild: same files, same modes.
    cpSync(assetPath, srcDir, { recursive: true });
  } else if (assetPath.endsWith('.zip')) {
    execFileSync('unzip', ['-q', assetPath, '-d', srcDir]);
  } else {
    throw new Error(`codebuild-emulator: asset ${assetPath} is neither a directory nor a zip`);
  }
}

/** Shell-quotes a command as a base64 literal, so no command text is ever parsed by the script itself. */
function encoded(command: string): string {
  return `"$(printf %s '${Buffer.from(command).toString('base64')}' | base64 -d)"`;
}

/**
 * One bash script for the whole build. Phase results go to fd 9 (a pipe to the emulator), which
 * every command runs without; a phase that ends the shell (`exit`) is caught by its missing result.
 */
function buildScript(spec: BuildSpec, skip: (command: string) => boolean): string {
  const lines = [
    'exec 9>&3 3>&-',
    'cd "$CODEBUILD_SRC_DIR" || exit 1',
    '__iwomp_mode=all', // all | post_build_only | none
  ];
  for (const name of PHASES) {
    const phase = spec.phases?.[name];
    if (!phase) continue;
    const runs = name === 'post_build' ? '[ "$__iwomp_mode" != none ]' : '[ "$__iwomp_mode" = all ]';
    lines.push(`if ${runs}; then`, `  printf 'start ${name}\\n' >&9`, '  __iwomp_rc=0');
    for (const command of phase.commands ?? []) {
      if (skip(command)) continue;
      lines.push(`  if [ $__iwomp_rc -eq 0 ]; then { eval ${encoded(command)}; } 9>&-; __iwomp_rc=$?; fi`);
    }
    for (const command of phase.finally ?? []) {
      if (skip(command)) continue;
      lines.push(
        `  { eval ${encoded(command)}; } 9>&-; __iwomp_f=$?`,
        '  [ $__iwomp_rc -eq 0 ] && __iwomp_rc=$__iwomp_f',
      );
    }
    lines.push(`  printf 'end ${name} %s\\n' "$__iwomp_rc" >&9`, '  if [ $__iwomp_rc -ne 0 ]; then');
    lines.push('    export CODEBUILD_BUILD_SUCCEEDING=0');
    if (phase['on-failure'] !== 'CONTINUE') {
      lines.push(`    __iwomp_mode=${name === 'build' ? 'post_build_only' : 'none'}`);
    }
    lines.push('  fi', 'fi');
  }
  return `${lines.join('\n')}\n`;
}

interface ShellRun {
  code: number;
  stdout: string;
  stderr: string;
  statusLines: string[];
}

function runShell(
  script: string,
  env: Record<string, string>,
  runAs: { uid: number; gid: number } | undefined,
  timeoutMs: number,
): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-c', script, 'codebuild'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
      ...(runAs ?? {}),
    });
    let stdout = '';
    let stderr = '';
    let status = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      status += d.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`codebuild-emulator: the build ran over ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, statusLines: status.split('\n').filter(Boolean) });
    });
  });
}

function phaseResults(spec: BuildSpec, lines: string[], shellCode: number): PhaseResult[] {
  const started = new Set<string>();
  const ended = new Map<string, number>();
  for (const line of lines) {
    const [kind, name, code] = line.split(' ');
    if (kind === 'start' && name) started.add(name);
    if (kind === 'end' && name) ended.set(name, Number(code));
  }
  return PHASES.filter((name) => spec.phases?.[name] !== undefined).map((phase): PhaseResult => {
    if (!started.has(phase)) return { phase, status: 'SKIPPED' };
    // Started but never ended: a command ended the shell; its code is the shell's.
    const code = ended.get(phase) ?? (shellCode === 0 ? 1 : shellCode);
    return code === 0
      ? { phase, status: 'SUCCEEDED', exitCode: 0 }
      : { phase, status: 'FAILED', exitCode: code };
  });
}
