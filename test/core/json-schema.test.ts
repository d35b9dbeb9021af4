import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseProjectDocument, resolveProjectConfig } from '../../src/core/project-config.js';
import {
  defaultsDocumentJsonSchema,
  projectDocumentJsonSchema,
  SCHEMA_FILES,
} from '../../src/core/project-config-json-schema.js';

const committed = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** A real JSON Schema validator over the committed files: what an editor or a CI check runs. */
function validator(file: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(committed(file));
  return (document: unknown) =>
    validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

const validateProject = validator(SCHEMA_FILES.project);
const validateDefaults = validator(SCHEMA_FILES.defaults);

/** The README's example project document (the first JSON block under "Register a project"). */
function readmeExample(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Register a project'));
  const block = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README: no JSON example under "Register a project"');
  return block;
}

describe('the JSON Schemas in schema/', () => {
  it('are what the zod schema generates today (run `npm run schema` after changing it)', () => {
    expect(committed(SCHEMA_FILES.project)).toEqual(projectDocumentJsonSchema());
    expect(committed(SCHEMA_FILES.defaults)).toEqual(defaultsDocumentJsonSchema());
  });

  it('each has an $id of its own and is draft 2020-12', () => {
    const ids = [committed(SCHEMA_FILES.project), committed(SCHEMA_FILES.defaults)].map((s) => s.$id);
    expect(ids).toEqual([
      'urn:iwomp-in-aws:schema/project-config.schema.json',
      'urn:iwomp-in-aws:schema/project-defaults.schema.json',
    ]);
    expect(committed(SCHEMA_FILES.project).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('refuses unknown keys and lists every documented key, and $schema', () => {
    const schema = projectDocumentJsonSchema() as {
      additionalProperties: unknown;
      properties: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual([
      '$schema',
      'authToken',
      'basicPassword',
      'basicUsername',
      'branches',
      'command',
      'concurrency',
      'credentialHosts',
      'deployDir',
      'deployRole',
      'gitUrl',
      'sparseCheckout',
      'sparsePaths',
      'sshKnownHosts',
      'sshPrivateKey',
      'statusApiUrl',
      'statusProvider',
      'statusToken',
      'timeoutMinutes',
    ]);
    expect(validateProject({ gitUrl: 'https://x/y.git', command: 'make', comand: 'x' })).toEqual([
      ' must NOT have additional properties',
    ]);
  });

  it('a project document needs gitUrl and command; _default may hold any subset', () => {
    expect(validateProject({})).toEqual([
      " must have required property 'gitUrl'",
      " must have required property 'command'",
    ]);
    expect(validateProject({ gitUrl: 'https://x/y.git' })).toEqual([
      " must have required property 'command'",
    ]);
    expect(validateDefaults({})).toEqual([]);
    expect(validateDefaults({ authToken: 'abcdefgh' })).toEqual([]);
  });

  it('a document may name its schema: both validators accept "$schema", and the parser drops it', () => {
    // GIVEN
    const document = { $schema: `./${SCHEMA_FILES.project}`, gitUrl: 'https://x/y.git', command: 'make' };
    // THEN
    expect(validateProject(document)).toEqual([]);
    expect(validateDefaults({ $schema: `./${SCHEMA_FILES.defaults}` })).toEqual([]);
    expect(parseProjectDocument(JSON.stringify(document), 'p.json')).toEqual({
      gitUrl: 'https://x/y.git',
      command: 'make',
    });
    // A $schema that is not a string is no schema reference: refused by name.
    expect(() => parseProjectDocument('{"$schema": 1, "gitUrl": "https://x/y.git"}', 'p.json')).toThrow(
      /\$schema/,
    );
  });

  it("the README's example document is valid for the schema (ajv) and for the parser (zod)", () => {
    // GIVEN
    const text = readmeExample();
    // THEN
    expect(validateProject(JSON.parse(text))).toEqual([]);
    const parsed = parseProjectDocument(text, 'README.md');
    expect(resolveProjectConfig(undefined, parsed)).toMatchObject({
      gitUrl: 'https://github.com/me/infra.git',
      auth: { kind: 'token' },
      command: ['npm', 'run', 'deploy', '--'],
    });
  });
});
