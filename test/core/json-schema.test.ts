import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { projectDocumentJsonSchema } from '../../src/core/project-config-json-schema.js';

describe('schema/project-config.schema.json', () => {
  it('is what the zod schema generates today (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync('schema/project-config.schema.json', 'utf8'));
    expect(committed).toEqual(projectDocumentJsonSchema());
  });

  it('refuses unknown keys and lists every documented key', () => {
    const schema = projectDocumentJsonSchema() as {
      additionalProperties: unknown;
      properties: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual([
      'authToken',
      'basicPassword',
      'basicUsername',
      'branches',
      'command',
      'credentialHosts',
      'deployDir',
      'deployRole',
      'gitUrl',
      'sshKnownHosts',
      'sshPrivateKey',
      'timeoutMinutes',
    ]);
  });
});
