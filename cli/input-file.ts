// Reads the execution input from a YAML or JSON file (YAML is a superset of JSON).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

export async function readInputFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the input file ${path}: ${err.message}`);
  });
  try {
    return parse(text);
  } catch (err) {
    throw new Error(`the input file ${path} is neither YAML nor JSON: ${(err as Error).message}`);
  }
}
