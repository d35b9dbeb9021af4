import { z } from 'zod';
import { ProjectDocumentSchema } from './project-config.js';

/**
 * The JSON Schema of a registry document, for editors (`"$schema"` in a project.json, or a
 * VS Code `json.schemas` mapping). Generated from the zod schema, so the two cannot drift.
 */
export function projectDocumentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ProjectDocumentSchema, { target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: 'iwomp-in-aws project configuration',
    description:
      'One registry document: /<configPath>/<project> or /<configPath>/_default in SSM, or <dir>/<project>.json locally. ' +
      'gitUrl and command are required after layering over _default.',
  };
}
