import { z } from 'zod';
import { migrationInputSchema } from './schema.js';

export function inputJsonSchemaText(): string {
  const schema = z.toJSONSchema(migrationInputSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'crossmove migration input', $id: 'https://crossmove.dev/schema/migration-input.schema.json' }, null, 2)}\n`;
}
