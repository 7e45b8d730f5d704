// One structured logger (Powertools) for every handler; the migrationId and execution name are
// appended to every line by shared/handler.ts. Messages pass through redact().
import { Logger } from '@aws-lambda-powertools/logger';
import { redact } from './redact.js';

export const logger = new Logger({ serviceName: 'crossmove' });

/** Logs a step before it runs (Vitess style): the log shows what was about to happen when something fails. */
export function logStep(step: string, details: Record<string, unknown> = {}): void {
  logger.info(redact(`step: ${step}`), JSON.parse(redact(JSON.stringify(details))));
}
