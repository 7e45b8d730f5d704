// The two directions of the switch in `crossmove plan`: "Cut over" and the operator's later "Fall back
// to the source", each the switch procedure recorded (switch-recorder.ts) with what plan knows before
// the run: the input and the engines. The write block is chosen as the steps choose it at run time.
import type { MigrationInput } from '../input/validate.js';
import { cutoverAfterSwitch, cutoverDirection } from '../mysql/cutover.js';
import type { Dialect } from '../mysql/dialect.js';
import { fallbackDirection } from '../mysql/fallback.js';
import { switchWords } from '../mysql/switch-words.js';
import { recordSql } from './record-sql.js';
import { recordSwitch, type RecordedStep } from './switch-recorder.js';

/** The plan's entry of one direction of the switch (fields of PlannedStep). */
export interface PlannedSwitch {
  state: string;
  where: string;
  changes: string[];
  pointOfNoReturn: true;
  /** The switch's steps in its order; the timed ones are what its result's `steps` reports. */
  switch: RecordedStep[];
}

/** How "Cut over" blocks the source when cutover.writeBlock does not say (steps/cut-over.ts). */
function sourceBlockMethod(input: MigrationInput, source: Dialect): 'read-only' | 'security-group' {
  return input.cutover.writeBlock?.method ?? (source.aurora ? 'security-group' : 'read-only');
}

const lines = (recorded: RecordedStep[]) => recorded.map((r) => `${r.step}: ${r.does.join('; ')}`);

export async function planCutover(input: MigrationInput, source: Dialect, target: Dialect): Promise<PlannedSwitch> {
  const recorded = await recordSwitch({
    direction: cutoverDirection(input),
    oldDialect: source,
    newDialect: target,
    block:
      sourceBlockMethod(input, source) === 'read-only'
        ? { method: 'read-only' }
        : { method: 'security-group', securityGroupId: input.cutover.writeBlock?.securityGroupId, setting: 'cutover.writeBlock.securityGroupId' },
    makeWritable: () => recordSql((c) => target.setReadOnly(c, false)),
    afterSwitch: (act) => cutoverAfterSwitch(input, act),
  });
  return {
    state: 'Cut over',
    where: 'both',
    pointOfNoReturn: true,
    changes: [`within ${input.cutover.catchUpTimeoutSeconds} s, else rolled back (source writable, replication resumed):`, ...lines(recorded)],
    switch: recorded,
  };
}

/**
 * The operator's fallback after the run (crossmove fallback; statemachine/fallback.asl.yaml), with its
 * defaults: fallbackOptions are given only then. Then DNS goes back to the source (shared/mysql/steps/fall-back.ts).
 */
export async function planFallback(input: MigrationInput, source: Dialect, target: Dialect): Promise<PlannedSwitch> {
  const state = 'Fall back to the source';
  if (!input.cutover.reverseReplication) {
    return {
      state,
      where: 'both',
      pointOfNoReturn: true,
      changes: ['not possible: cutover.reverseReplication is false, so the source would lack the writes made on the target (move back with a new migration in the other direction)'],
      switch: [],
    };
  }
  const sourceBlockedBy = sourceBlockMethod(input, source);
  const recorded = await recordSwitch({
    direction: fallbackDirection(input),
    oldDialect: target,
    newDialect: source,
    block: target.canSetReadOnly ? { method: 'read-only' } : { method: 'security-group', setting: 'fallbackOptions.writeBlock.securityGroupId' },
    // The inverse of the cutover's block on the source (fallback-source.ts).
    makeWritable: async () =>
      sourceBlockedBy === 'read-only'
        ? recordSql((c) => source.setReadOnly(c, false))
        : [
            `restore the inbound rules the cutover removed from ${input.cutover.writeBlock?.securityGroupId ?? '<cutover.writeBlock.securityGroupId>'} (AuthorizeSecurityGroupIngress, from its row in ${input.names.heartbeatSchema}.cutover_log on the target)`,
            ...(source.canSetReadOnly ? await recordSql((c) => source.setReadOnly(c, false)) : []),
          ],
  });
  const w = switchWords('fallback');
  return {
    state,
    where: 'both',
    pointOfNoReturn: true,
    changes: [
      `only when you run crossmove fallback after the cutover; within ${input.cutover.catchUpTimeoutSeconds} s, else rolled back (${w.oldSide} writable, ${w.replication} running):`,
      ...lines(recorded),
      input.cutover.dns ? `then point DNS back: UPSERT CNAME ${input.cutover.dns.recordName} -> source endpoint (TTL ${input.cutover.dns.ttl})` : 'then DNS: nothing (no cutover.dns)',
    ],
    switch: recorded,
  };
}
