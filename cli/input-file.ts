// Reads the execution input from a YAML or JSON file (YAML is a superset of JSON); a file that holds
// no mapping (empty, null, a list) is refused with what it must hold.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { InputValidationError } from '../shared/errors.js';
import { notAnInputIssue } from '../shared/input/validate.js';

export async function readInputFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the input file ${path}: ${err.message}`);
  });
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new Error(`the input file ${path} is neither YAML nor JSON: ${(err as Error).message}`);
  }
  // Refused here, before a state machine starts: its first state could not even record the failure
  // of an input that is not an object (States.ResultPathMatchFailure).
  const issue = notAnInputIssue(raw);
  if (issue) throw new InputValidationError([{ ...issue, message: `the file ${path} ${issue.message}` }]);
  return raw;
}
