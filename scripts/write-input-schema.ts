// Publishes the execution input schema as JSON Schema (schema/migration-input.schema.json), for the
// Step Functions console, editors and other tools. test/unit/input-schema.test.ts fails when stale.
import { writeFileSync } from 'node:fs';
import { inputJsonSchemaText } from '../shared/input/json-schema.js';

writeFileSync(new URL('../schema/migration-input.schema.json', import.meta.url), inputJsonSchemaText());
console.log('wrote schema/migration-input.schema.json');
