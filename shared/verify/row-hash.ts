// The engine-neutral row hash and the queries built on it (read-only SQL).
// A row is encoded as CONCAT_WS(',', v1, v2, ...) with each column rendered so that the encoding is
// one-to-one and reads the same on any MySQL-family server:
//   numbers, DECIMAL, YEAR   the value, or N for NULL (a number's text has no comma and is never N)
//   FLOAT, DOUBLE            c + 0e0: the exact double, printed shortest round-trip (FLOAT widened), so
//                            a difference in the last digits is found, never rounded away
//   BIT                      c + 0
//   temporal                 the value's text (sessions at time_zone '+00:00'), or N
//   text, ENUM, SET, JSON    QUOTE(c): quoted and escaped, so commas, quotes and the word NULL inside
//                            values cannot collide; QUOTE(NULL) is the bare word NULL, so NULL and ''
//                            differ. Text stored in another character set on either side is first
//                            CONVERTed to utf8mb4 (on both), so the same characters are the same bytes
//   binary, BLOB             QUOTE(c) over the raw bytes
//   spatial                  HEX(c), or N
// A sub-chunk's hash is COUNT(*) and the SUM of the first 64 bits of each row's SHA1, as an exact
// DECIMAL read as text. SHA1, not MD5: both servers compute it with their TLS library's accelerated
// code (measured here: MD5 made the whole hash query 50% slower than SHA1). SUM, unlike
// pt-table-checksum's BIT_XOR, does not cancel two identical rows, so it also serves tables without a
// key, whose rows may repeat.
import { ident } from '../mysql/connection.js';
import { keySelectList, type KeyTuple } from '../chunks/key-values.js';
import type { WalkKey, TableRef } from '../chunks/keys.js';
import { forceIndex, keyEquals, orderByKey, rangeWhere, type KeyRange } from '../chunks/range-sql.js';
import { tableSql } from '../chunks/planner.js';
import type { HashColumn } from './columns.js';

function columnEncoding(column: HashColumn): string {
  const c = ident(column.name);
  switch (column.kind) {
    case 'number':
    case 'temporal':
      return `IFNULL(${c}, 'N')`;
    case 'float':
      return `IFNULL(${c} + 0e0, 'N')`;
    case 'bit':
      return `IFNULL(${c} + 0, 'N')`;
    case 'binary':
      return `QUOTE(${c})`;
    case 'spatial':
      return `IFNULL(HEX(${c}), 'N')`;
    case 'text':
      return column.convert ? `QUOTE(CONVERT(${c} USING utf8mb4))` : `QUOTE(${c})`;
    case 'json':
      return `QUOTE(CONVERT(${c} USING utf8mb4))`;
  }
}

function rowEncoding(columns: HashColumn[]): string {
  if (!columns.length) return "''";
  return `CONCAT_WS(',', ${columns.map(columnEncoding).join(', ')})`;
}

const rowHash64 = (columns: HashColumn[]) => `CAST(CONV(LEFT(SHA1(${rowEncoding(columns)}), 16), 16, 10) AS UNSIGNED)`;

/** A range of rows (or the whole table when key is null): SELECT n, h. */
export function chunkHashSql(table: TableRef, key: WalkKey | null, range: KeyRange, columns: HashColumn[]): string {
  const where = key ? ` ${forceIndex(key)} WHERE ${rangeWhere(key, range)}` : '';
  return `SELECT COUNT(*) AS n, CAST(COALESCE(SUM(${rowHash64(columns)}), 0) AS CHAR) AS h FROM ${tableSql(table)}${where}`;
}

/** Each row's key and full SHA1, in key order (narrowing a differing sub-chunk). */
export function rowHashesSql(table: TableRef, key: WalkKey, range: KeyRange, columns: HashColumn[]): string {
  return `SELECT ${keySelectList(key)}, SHA1(${rowEncoding(columns)}) AS h FROM ${tableSql(table)} ${forceIndex(key)} WHERE ${rangeWhere(key, range)} ORDER BY ${orderByKey(key)}`;
}

/** Given rows by key: their key, full SHA1 and one SHA1 per column (which columns differ). */
export function rowsByKeySql(table: TableRef, key: WalkKey, tuples: KeyTuple[], columns: HashColumn[], perColumn: boolean): string {
  const where = tuples.map((t) => `(${keyEquals(key, t)})`).join(' OR ');
  const cols = perColumn ? columns.map((c, i) => `, SHA1(${columnEncoding(c)}) AS c${i}`).join('') : '';
  return `SELECT ${keySelectList(key)}, SHA1(${rowEncoding(columns)}) AS h${cols} FROM ${tableSql(table)} ${forceIndex(key)} WHERE ${where || 'FALSE'}`;
}

export function countSql(table: TableRef): string {
  return `SELECT COUNT(*) AS n FROM ${tableSql(table)}`;
}
