import * as z from 'zod/mini';
import { ProjectDocumentSchema } from './project-config.js';

/** Where `npm run schema` writes each schema, relative to the package root. */
export const SCHEMA_FILES = {
  project: 'schema/project-config.schema.json',
  defaults: 'schema/project-defaults.schema.json',
} as const;

/**
 * Lets a document name its schema (`"$schema": "…/project-config.schema.json"`), as editors expect.
 * `parseProjectDocument` drops the key: it is about the file, not the project.
 */
const SchemaReference = z.optional(
  z.string().check(z.describe('The JSON Schema this document follows, for editors. Ignored by iwomp.')),
);

/**
 * The JSON Schema of a project document, `/<configPath>/<project>`, for editors and CI checks.
 * Generated from the zod schema, so the two cannot drift. `gitUrl` and `command` are required here
 * although the registry would also take them from `_default`: a project's repository and deploy
 * command are its own in nearly every registry, and an editor that says nothing about an empty
 * document is no help. A project that does inherit them validates against the defaults schema.
 */
export function projectDocumentJsonSchema(): Record<string, unknown> {
  const schema = z.extend(z.required(ProjectDocumentSchema, { gitUrl: true, command: true }), {
    $schema: SchemaReference,
  });
  return withIdentity(toJsonSchema(schema), SCHEMA_FILES.project, {
    title: 'iwomp-in-aws project configuration',
    description:
      'One project: /<configPath>/<project> in SSM, or <dir>/<project>.json locally. Other keys than gitUrl and command may come from /<configPath>/_default.',
  });
}

/**
 * The JSON Schema of `/<configPath>/_default`: any subset of a project's keys, except
 * `statusToken`, which each project holds for itself (resolveProjectConfig refuses it).
 */
export function defaultsDocumentJsonSchema(): Record<string, unknown> {
  return withIdentity(
    toJsonSchema(
      z.extend(z.omit(ProjectDocumentSchema, { statusToken: true }), { $schema: SchemaReference }),
    ),
    SCHEMA_FILES.defaults,
    {
      title: 'iwomp-in-aws registry defaults',
      description:
        'The keys every project inherits: /<configPath>/_default in SSM, or <dir>/_default.json locally. gitUrl and command are required after layering.',
    },
  );
}

function toJsonSchema(schema: z.core.$ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

function withIdentity(
  schema: Record<string, unknown>,
  file: string,
  text: { title: string; description: string },
): Record<string, unknown> {
  const { $schema, ...rest } = schema;
  // `$id` names the schema; the package carries it at this path (node_modules/iwomp-in-aws/…).
  return { $schema, $id: `urn:iwomp-in-aws:${file}`, ...text, ...rest };
}
