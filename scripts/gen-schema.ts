/** Writes schema/project-config.schema.json from the zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { projectDocumentJsonSchema } from '../src/core/project-config-json-schema.js';

export const SCHEMA_FILE = 'schema/project-config.schema.json';

writeFileSync(SCHEMA_FILE, `${JSON.stringify(projectDocumentJsonSchema(), null, 2)}\n`);
console.log(`wrote ${SCHEMA_FILE}`);
