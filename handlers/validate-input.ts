// "Validate the input": the raw execution input becomes { input, accounts } or an InputValidationError
// naming every offending field, before anything is changed.
import { InputValidationError } from '../shared/errors.js';
import { stepHandler } from '../shared/handler.js';
import { validateMigrationInput, type MigrationInput } from '../shared/input/validate.js';
import { accountIssues, resolveAccounts } from '../shared/aws/accounts.js';
import type { Accounts } from '../shared/state.js';

export const handler = stepHandler('Validate the input', async (raw: unknown): Promise<{ input: MigrationInput; accounts: Accounts }> => {
  const input = validateMigrationInput(raw);
  const accounts = await resolveAccounts(input);
  const issues = accountIssues(input, accounts);
  if (issues.length) throw new InputValidationError(issues);
  return { input, accounts };
});
