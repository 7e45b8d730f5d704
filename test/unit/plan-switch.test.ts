// `crossmove plan` prints the switch by running the switch's own procedure (switch-primary.ts) against a
// recorder: its steps are the procedure's, in the procedure's order, with the dialects' SQL. The
// expected sequences below are the switch as it is: a step added to, moved in or dropped from the
// procedure changes them, and this test fails until the plan (and whoever reads it) is looked at.
// test/db/cutover.test.ts and fallback.test.ts check that a real run reports the same steps.
import { describe, expect, it } from 'vitest';
import { formatPlan, type PlanReport } from '../../cli/plan.js';
import { validateMigrationInput } from '../../shared/input/validate.js';
import { dialectFor } from '../../shared/mysql/dialect.js';
import { planFallbackStep, planSteps } from '../../shared/plan/steps.js';
import { planCutover, planFallback } from '../../shared/plan/switch-steps.js';
import { rawCrossAccountInput } from '../aws/mock-fixtures.js';

const accounts = { source: null, target: null, sameAccount: true, sourceRegion: null, targetRegion: null } as never;

function inputWith(cutover: Record<string, unknown> = {}) {
  return validateMigrationInput({
    migrationId: 'plan-switch',
    source: { endpoint: { host: '127.0.0.1', port: 3306 }, adminSecret: 'env:A' },
    target: { endpoint: { host: '127.0.0.1', port: 3307 }, adminSecret: 'env:B' },
    initialLoad: { method: 'logical', schemas: ['app'] },
    cutover: { applyMissingGrants: true, writeBlock: { method: 'read-only' }, ...cutover },
  });
}

const CUTOVER_SEQUENCE = [
  ['read the cutover record', false],
  ['check that replication is healthy and lag is under the limit', true],
  ["end the application's long transactions on the source", true],
  ['record the cutover in-progress', false],
  ['block writes on the source', true],
  ["kill the application's sessions on the source", true],
  ["read the source's final binlog position", true],
  ['wait until the target executed that position', true],
  ['stop replication on the target', true],
  ["capture the target's binlog position (reverse replication starts there)", true],
  ['verify the data', true],
  ['compare application users and grants', true],
  ['check that the source binlog stopped moving', true],
  ['record the cutover past-point-of-no-return', false],
  ['point of no return', false],
  ['reset the external source on the target', true],
  ['make the target writable', true],
  ['apply missing users and grants on the target', true],
  ['enable the events the copy created DISABLE ON SLAVE', true],
  ['record the cutover done', false],
];

const FALLBACK_SEQUENCE = [
  ['read the fallback record', false],
  ['check that reverse replication is healthy and lag is under the limit', true],
  ["end the application's long transactions on the target", true],
  ['record the fallback in-progress', false],
  ['block writes on the target', true],
  ["kill the application's sessions on the target", true],
  ["read the target's final binlog position", true],
  ['wait until the source executed that position', true],
  ['stop reverse replication on the source', true],
  ["capture the source's binlog position", true],
  ['verify the data', true],
  ['compare application users and grants', true],
  ['check that the target binlog stopped moving', true],
  ['record the fallback past-point-of-no-return', false],
  ['point of no return', false],
  ['reset reverse replication on the source', true],
  ['make the source writable', true],
  ['record the fallback done', false],
];

describe("plan's switch is the switch's procedure, recorded", () => {
  it('cutover: every step of the procedure in its order, marker rows and the point of no return between them', async () => {
    const planned = await planCutover(inputWith(), dialectFor('mariadb'), dialectFor('mariadb'));
    expect(planned.switch.map((s) => [s.step, s.timed])).toEqual(CUTOVER_SEQUENCE);
  });

  it('fallback: the same procedure backwards, without the cutover-only tasks after the switch', async () => {
    const planned = await planFallback(inputWith(), dialectFor('mariadb'), dialectFor('mariadb'));
    expect(planned.switch.map((s) => [s.step, s.timed])).toEqual(FALLBACK_SEQUENCE);
  });

  it('shows only the tasks the input asks for after the switch', async () => {
    // A cross-account clone onto Aurora MySQL 3, missing grants not applied.
    const input = validateMigrationInput(rawCrossAccountInput());
    expect(input.cutover.applyMissingGrants).toBe(false);
    const planned = await planCutover(input, dialectFor('aurora-mysql-3'), dialectFor('aurora-mysql-3'));
    const names = planned.switch.map((s) => s.step);
    expect(names).not.toContain('apply missing users and grants on the target');
    expect(names).not.toContain('enable the events the copy created DISABLE ON SLAVE');
    expect(names.at(-2)).toBe('make the target writable');
  });

  it("prints each step with the SQL the dialect sends, in the switch's order, in the plan's output", async () => {
    const input = inputWith();
    const steps = await planSteps({ input, accounts, sourceEngine: 'mysql-8', targetEngine: 'mysql-8' });
    const cutOver = steps.find((s) => s.state === 'Cut over')!;
    expect(cutOver.changes).toEqual([expect.stringMatching(/^within 30 s, else rolled back/), ...cutOver.switch!.map((s) => `${s.step}: ${s.does.join('; ')}`)]);
    expect(cutOver.changes).toEqual(
      expect.arrayContaining([
        'block writes on the source: SET SESSION lock_wait_timeout = 29; SET GLOBAL read_only = ON',
        'stop replication on the target: STOP REPLICA',
        'reset the external source on the target: RESET REPLICA ALL',
        'make the target writable: once the two-primaries guard found the source blocked: SET GLOBAL read_only = OFF',
      ]),
    );
    const fallback = await planFallbackStep({ input, accounts, sourceEngine: 'mysql-8', targetEngine: 'mysql-8' });
    const report: PlanReport = { ok: true, migrationId: 'plan-switch', method: 'logical', engines: { source: 'mysql-8', target: 'mysql-8' }, checks: [], steps, fallback };
    const text = formatPlan(report);
    // In the printed plan, in the same order.
    const at = (line: string) => text.indexOf(`      ${line}\n`);
    const positions = [...cutOver.changes, ...fallback.changes].map(at);
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(text).toContain('Later, only if you fall back (`crossmove fallback`, not part of the run):');
  });

  it('names the security group the cutover would close on Aurora, and that the fallback needs one', async () => {
    const input = inputWith({ writeBlock: { method: 'security-group', securityGroupId: 'sg-0123456789abcdef0' } });
    const cut = await planCutover(input, dialectFor('aurora-mysql-3'), dialectFor('aurora-mysql-3'));
    expect(cut.changes).toContain('block writes on the source: remove the MySQL inbound rules of sg-0123456789abcdef0 (RevokeSecurityGroupIngress); sessions holding the block up are killed while it waits');
    const back = await planFallback(input, dialectFor('aurora-mysql-3'), dialectFor('aurora-mysql-3'));
    expect(back.changes.join('\n')).toContain('remove the MySQL inbound rules of <security group: fallbackOptions.writeBlock.securityGroupId>');
    expect(back.changes.join('\n')).toContain('restore the inbound rules the cutover removed from sg-0123456789abcdef0');
  });

  it('says a fallback is not possible without reverse replication', async () => {
    const planned = await planFallback(inputWith({ reverseReplication: false }), dialectFor('mariadb'), dialectFor('mariadb'));
    expect(planned.switch).toEqual([]);
    expect(planned.changes[0]).toMatch(/^not possible: cutover.reverseReplication is false/);
  });
});
