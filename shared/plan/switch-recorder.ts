// "Cut over" and "Fall back to the source" in `crossmove plan`: the switch procedure of
// switch-primary.ts run against a Switcher that changes nothing and writes down, step by step, what each
// action would send (Vitess's switcherDryRun). The step names are the procedure's own, the SQL is the
// dialects' and the write blocker's; only the descriptions of what cannot be rendered (a security-group
// change, a poll, a check) are words of this file. A step added to, moved in or removed from the switch
// shows up here by itself.
import type { MigrationInput } from '../input/validate.js';
import { binlogStatus, type Dialect } from '../mysql/dialect.js';
import type { GrantDiff } from '../mysql/grants.js';
import { LONG_TRANSACTION } from '../mysql/sessions.js';
import type { AfterSwitch, SwitchDirection } from '../mysql/switch-plan.js';
import { runSwitch } from '../mysql/switch-primary.js';
import { switchWords } from '../mysql/switch-words.js';
import type { Switcher } from '../mysql/switcher.js';
import { ReadOnlyBlocker } from '../mysql/write-block.js';
import type { ReplicationCheck } from '../state.js';
import { recordSql } from './record-sql.js';

export interface RecordedStep {
  /** The step's name: for a timed step exactly as the switch's result reports it in `steps`. */
  step: string;
  /** A step of the switch's result (`steps`), rather than a marker row or the point of no return. */
  timed: boolean;
  /** What it would send or do. */
  does: string[];
}

/** How the old primary's writes would be blocked. */
type PlannedBlock = { method: 'read-only' } | { method: 'security-group'; securityGroupId?: string; setting: string };

/** One direction of the switch as plan sees it: the direction itself and what it knows of the two sides. */
export interface SwitchToRecord<R> {
  direction: SwitchDirection<R>;
  oldDialect: Dialect;
  newDialect: Dialect;
  block: PlannedBlock;
  /** What making the new primary writable sends or does. */
  makeWritable: () => Promise<string[]>;
  /** The direction's tasks after the switch, given the recorder's actions (see cutoverAfterSwitch). */
  afterSwitch?: (act: RecordingActions) => AfterSwitch;
}

/** What the after-switch tasks act through while recorded. */
interface RecordingActions {
  diffGrants(): Promise<GrantDiff>;
  applyGrantDiff(diff: GrantDiff): Promise<void>;
  enableCopiedEvents(): Promise<string[]>;
}

const OLD_FINAL = { file: '<binlog file>', position: 0 };
const NEW_AT_SWITCH = { file: '<binlog file of the new primary>', position: 0 };
/** What the grants comparison may find: something missing, so that the tasks that depend on it are shown. */
const SOME_MISSING: GrantDiff = { missingUsers: ['<a user the comparison finds missing>'], missingGrants: [], lines: [] };

const joined = (sql: string[]) => (sql.length ? sql.join('; ') : 'nothing to send');

/** Runs the direction's switch against the recorder; returns its steps in the order the switch takes them. */
export async function recordSwitch<R extends { grantDifferences: string[] }>(s: SwitchToRecord<R>): Promise<RecordedStep[]> {
  const input: MigrationInput = s.direction.input;
  const w = switchWords(s.direction.direction);
  const [oldN, newN] = [w.oldSide, w.newSide];
  const schema = input.names.heartbeatSchema;
  const table = `${schema}.${s.direction.markerTable}`;
  const recorded: RecordedStep[] = [];
  const current = () => recorded.at(-1)!;
  const note = (...lines: string[]) => current().does.push(...lines);
  const begin = (step: string, timed: boolean) => recorded.push({ step, timed, does: [] });
  const kill = async () => (await recordSql((c) => s.oldDialect.kill(c, 0))).map((sql) => sql.replace(/\b0\b/, '<id>'));
  const act: RecordingActions = {
    diffGrants: async () => SOME_MISSING,
    applyGrantDiff: async () =>
      void note(`only what the comparison found missing: SHOW CREATE USER on the ${oldN} (the password hash, never a password), then CREATE USER IF NOT EXISTS and GRANT on the ${newN}`),
    enableCopiedEvents: async () => {
      note(`ALTER EVENT <schema>.<event> ENABLE on the ${newN}, for each event the copy created DISABLE ON SLAVE that is enabled on the ${oldN}`);
      return [];
    },
  };
  const afterSwitch = s.afterSwitch?.(act);
  const never = (what: string) => () => Promise.reject(new Error(`plan never ${what}: it plans a switch with no attempt before it`));

  const recorder: Switcher<R> = {
    blockMethod: s.block.method,
    announce: (step) => void begin(step, true),
    readMarker: async () => {
      begin(`read the ${w.action} record`, false);
      note(`this migration's latest row of ${table} on the ${newN}: done -> its result is returned; past the point of no return -> the switch is finished; in progress -> that attempt is undone first`);
      return null;
    },
    finishAfterCrash: never('finishes an attempt'),
    undoAfterCrash: never('undoes an attempt'),
    checkReplication: async () => {
      note(`${s.newDialect.statusSql} on the ${newN}; a heartbeat row written on the ${oldN} (${schema}.heartbeat) must arrive within replication.maxLagSeconds (${input.replication.maxLagSeconds} s), else refused, nothing changed`);
      return { healthy: true, underLimit: true } as ReplicationCheck;
    },
    endLongTransactions: async () => {
      note(
        `${joined(await kill())} for each application session on the ${oldN} whose transaction is ${LONG_TRANSACTION.seconds} s old or changed ${LONG_TRANSACTION.rowsModified} rows (users other than ${s.direction.keepUsers.join(', ')}), while writes still flow; up to 30 s for their rollback, else refused, nothing changed`,
      );
      return { killed: 0, gone: true };
    },
    planBlock: async () => (s.block.method === 'security-group' ? { groupId: s.block.securityGroupId ?? '<security group>', rules: [] } : null),
    writeMarker: async (m) => {
      begin(`record the ${w.action} ${m.phase}`, false);
      note(`INSERT INTO ${table} on the ${newN} (phase '${m.phase}'${m.phase === 'in-progress' && s.block.method === 'security-group' ? ', with the inbound rules the block removes, to restore them' : ''})`);
    },
    blockWrites: async () => {
      if (s.block.method === 'read-only') {
        // The budget as the block sees it a moment after it started (whole seconds, rounded down), so the plan reads the same every time.
        const deadline = Date.now() + input.cutover.catchUpTimeoutSeconds * 1000 - 1;
        note(joined(await recordSql((c) => new ReadOnlyBlocker(c).block(deadline), { oneRow: true, changesOnly: true })));
      } else {
        note(
          `remove the MySQL inbound rules of ${s.block.securityGroupId ?? `<security group: ${s.block.setting}>`} (RevokeSecurityGroupIngress); sessions holding the block up are killed while it waits`,
        );
      }
    },
    killSessions: async () => {
      note(`${joined(await kill())} for every application session on the ${oldN} (users other than ${s.direction.keepUsers.join(', ')}; crossmove's own connections are kept)`);
      return { killed: 0, gone: true };
    },
    readOldPosition: async () => {
      note(joined(await recordSql((c) => binlogStatus(c))) + ` on the ${oldN}`);
      return OLD_FINAL;
    },
    waitForPosition: async () => {
      note(`${s.newDialect.statusSql} on the ${newN}, polled until it executed that position, within cutover.catchUpTimeoutSeconds (${input.cutover.catchUpTimeoutSeconds} s from the block), else rolled back`);
      return { reached: true };
    },
    stopReplication: async () => void note(joined(await recordSql((c) => s.newDialect.stop(c)))),
    readNewPosition: async () => {
      note(joined(await recordSql((c) => binlogStatus(c))) + ` on the ${newN}`);
      return NEW_AT_SWITCH;
    },
    verifyData: async () => {
      note(`the applier stopped without an error (${s.newDialect.statusSql})`);
      if (s.direction.direction !== 'cutover') note('the data was compared before the cutover: nothing more here');
      else if (input.cutover.verify === 'diff') {
        note(`re-check by key, on both sides, the rows the comparison before the approval left unsettled (at most verify.maxRecheckInBlock ${input.verify.maxRecheckInBlock}; nothing scanned: no time growing with the data)`);
      } else note('no data check (cutover.verify none)');
      return { tablesVerified: 0, checksumsMatch: null };
    },
    compareGrants: async () => {
      note(`SHOW GRANTS for every application user on both sides: what the ${newN} lacks is reported`);
      return SOME_MISSING;
    },
    pointOfNoReturn: (what) => {
      begin('point of no return', false);
      note(`${what}; a failure after this never reopens the ${oldN}: the next attempt finishes the switch (${w.retry})`);
    },
    resetReplication: async () => void note(joined(await recordSql((c) => s.newDialect.reset(c)))),
    makeWritable: async () => {
      note(`once the two-primaries guard found the ${oldN} blocked: ${joined(await s.makeWritable())}`);
    },
    rollBack: never('rolls back'),
    afterSwitch: async (diff) => {
      if (!afterSwitch) return [];
      await afterSwitch(diff, async (name, fn) => {
        begin(name, true);
        await fn();
      });
      return [];
    },
  };
  await runSwitch(s.direction, recorder);
  return recorded;
}
