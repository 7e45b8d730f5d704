// statemachine/fallback.asl.yaml executed with aws-local-stepfunctions: a fallback stopped past its
// point of no return (FallbackIncompleteError) is retried until it finishes; one that rolled back or
// refused is reported at once, never retried (retrying would block the target again for nothing).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStateMachineLocally, type RunEvent } from '../../local/run-state-machine.js';
import type { LocalHandler } from '../../local/run-state-machine.js';
import { failing } from './stubs.js';

const DEFINITION = join(import.meta.dirname, '..', '..', 'statemachine', 'fallback.asl.yaml');
const FINAL_STATE = { input: { migrationId: 'orders-1' }, accounts: { source: null, target: null, sameAccount: true } };

async function runFallback(fallBack: LocalHandler) {
  const events: RunEvent[] = [];
  const result = await runStateMachineLocally({ input: FINAL_STATE, definitionPath: DEFINITION, handlers: { fallBack }, waitMs: 0, retryMs: 0, onEvent: (e) => events.push(e) });
  return { result, retried: events.filter((e) => e.type === 'StateRetried').map((e) => e.state) };
}

describe('fallback state machine', () => {
  it('retries a fallback stopped past its point of no return until it finishes', async () => {
    let calls = 0;
    const { result, retried } = await runFallback(async (state) => {
      calls += 1;
      if (calls <= 2) return failing('FallbackIncompleteError', 'Fallback passed its point of no return but did not finish (RESET SLAVE ALL failed); the target stays blocked')(state);
      return { ok: true, rolledBack: false };
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(retried).toEqual(['Fall back to the source', 'Fall back to the source']);
    expect((result.output as { fallback: unknown }).fallback).toEqual({ ok: true, rolledBack: false });
  });

  it.each(['FallbackRolledBackError', 'FallbackNotReadyError'])('reports %s without retrying', async (name) => {
    let calls = 0;
    const { result, retried } = await runFallback(async (state) => {
      calls += 1;
      return failing(name, 'reverse lag 4 s is above the limit; nothing changed')(state);
    });
    expect(result).toMatchObject({ status: 'FAILED', error: name });
    expect(calls).toBe(1);
    expect(retried).toEqual([]);
  });
});
