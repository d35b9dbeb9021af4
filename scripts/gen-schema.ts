/** Writes the JSON Schemas in schema/ from the zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import {
  defaultsDocumentJsonSchema,
  projectDocumentJsonSchema,
  SCHEMA_FILES,
} from '../src/core/project-config-json-schema.js';

for (const [file, schema] of [
  [SCHEMA_FILES.project, projectDocumentJsonSchema()],
  [SCHEMA_FILES.defaults, defaultsDocumentJsonSchema()],
] as const) {
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
