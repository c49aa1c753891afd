// Writes docs/run-format.schema.json from the zod schemas of engine/train/runFormat.ts (`npm run schema`).
import { writeFileSync } from 'node:fs';
import { runFormatJsonSchema } from '../engine/train/runFormat';

const SCHEMA_FILE = new URL('../docs/run-format.schema.json', import.meta.url);
writeFileSync(SCHEMA_FILE, JSON.stringify(runFormatJsonSchema(), null, 2) + '\n');
console.log(`wrote ${SCHEMA_FILE.pathname}`);
