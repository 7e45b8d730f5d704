// The target sessions of the copy: the load and the copy's bookkeeping stay out of the target's binlog
// where the account may say so (shared/mysql/skip-binlog.ts: SET sql_log_bin = 0, Aurora 2's
// rds_disable_session_binlog). Before the cutover that is a saving, not a need: reverse replication
// starts at the target's position taken at the switch, so nothing written now travels back. On
// MariaDB the load also skips CHECK constraints (below).
import { Readable } from 'node:stream';
import { detectEngine } from '../mysql/dialect.js';
import { skipBinlog } from '../mysql/skip-binlog.js';
import type { Conn } from './connections.js';

/** Returns whether this session's writes are kept out of the binlog. */
export async function targetSession(conn: Conn): Promise<boolean> {
  const engine = await detectEngine(conn);
  // MariaDB checks CHECK constraints (and the json_valid() one of every JSON column) on each row
  // loaded: the source already enforced the same constraints on the same values, so the load skips
  // them. MySQL 8 has no such switch (nor session variable): there they are checked.
  if (engine === 'mariadb') await conn.query('SET SESSION check_constraint_checks = 0');
  return skipBinlog(conn, { engine, aurora: engine.startsWith('aurora') });
}

/** LOAD DATA LOCAL needs local_infile on the target (MySQL 8 defaults it off): try it on a temporary table. */
export async function localInfileAllowed(conn: Conn): Promise<boolean> {
  try {
    await conn.query('CREATE TEMPORARY TABLE crossmove_infile_probe (a INT)');
    const [result] = await conn.query<any>({
      sql: "LOAD DATA LOCAL INFILE 'probe' INTO TABLE crossmove_infile_probe LINES TERMINATED BY '\\n' (a)",
      infileStreamFactory: () => Readable.from([Buffer.from('1\n')]),
    } as any);
    return result.affectedRows === 1;
  } catch {
    return false;
  } finally {
    await conn.query('DROP TEMPORARY TABLE IF EXISTS crossmove_infile_probe').catch(() => undefined);
  }
}

export async function maxAllowedPacket(conn: Conn): Promise<number> {
  const [rows] = await conn.query<any[]>('SELECT @@max_allowed_packet AS m');
  return Number(rows[0]?.m ?? 4 * 1024 * 1024);
}
