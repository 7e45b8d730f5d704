// Key values as they travel between servers, the cursor store and JSON: a key tuple is an array of
// strings, one per key column (a boundary may be a prefix of the key), each the column's exact
// canonical text read by SQL on the server, never a JS number or Date:
//   int, dec  decimal digits (BIGINT UNSIGNED and DECIMAL(65,30) stay exact), BIT and YEAR as numbers
//   enum      the member's index (ENUM sorts by index)
//   str       hex of the value's utf8mb4 bytes (any character set, no escaping problem)
//   bin       hex of the bytes
//   time      the value's text in a session at time_zone '+00:00'
// Bound back as literals (hex or validated digits, so a key value can never inject SQL). A text
// literal takes the key column's own collation (COLLATE, explicit coercibility), so comparisons use
// the column's collation and its index, whatever the connection's character set.
import { ident } from '../mysql/connection.js';
import type { KeyColumn, WalkKey } from './keys.js';

export type KeyTuple = string[];

const DIGITS = /^-?\d+(\.\d+)?$/;
const HEX = /^([0-9A-Fa-f]{2})*$/;
const TEMPORAL = /^-?[0-9:. -]+$/;

/** SELECT expression that yields the column's canonical text. */
function keyReadExpression(column: KeyColumn, alias?: string): string {
  const c = alias ? `${alias}.${ident(column.name)}` : ident(column.name);
  switch (column.kind) {
    case 'int':
      return column.dataType === 'bit' ? `CAST(${c} + 0 AS CHAR)` : `CAST(${c} AS CHAR)`;
    case 'dec':
    case 'time':
      return `CAST(${c} AS CHAR)`;
    case 'enum':
      return `CAST(${c} + 0 AS CHAR)`;
    case 'str':
      return `HEX(CONVERT(${c} USING utf8mb4))`;
    case 'bin':
      return `HEX(${c})`;
  }
}

/** The key columns' canonical texts as a select list (aliases k0, k1, ...). */
export function keySelectList(key: WalkKey, alias?: string): string {
  return key.columns.map((c, i) => `${keyReadExpression(c, alias)} AS k${i}`).join(', ');
}

/** Reads a tuple back from a row selected with keySelectList. */
export function tupleFromRow(key: WalkKey, row: Record<string, unknown>): KeyTuple {
  return key.columns.map((_, i) => {
    const v = row[`k${i}`];
    if (v === null || v === undefined) throw new Error(`key column ${key.columns[i]!.name} read as NULL: a walk key has NOT NULL columns only`);
    return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  });
}

/** A literal for one key column's value, checked so that it can only be a value. */
export function keyLiteral(column: KeyColumn, value: string): string {
  switch (column.kind) {
    case 'int':
    case 'dec':
    case 'enum':
      if (!DIGITS.test(value)) throw new Error(`bad ${column.kind} key value for ${column.name}: ${JSON.stringify(value)}`);
      return value;
    case 'time':
      if (!TEMPORAL.test(value)) throw new Error(`bad temporal key value for ${column.name}: ${JSON.stringify(value)}`);
      return `'${value}'`;
    case 'bin':
      if (!HEX.test(value)) throw new Error(`bad binary key value for ${column.name}`);
      return `X'${value}'`;
    case 'str': {
      if (!HEX.test(value)) throw new Error(`bad text key value for ${column.name}`);
      const text = `_utf8mb4 X'${value}'`;
      const converted = column.charset && column.charset !== 'utf8mb4' ? `CONVERT(${text} USING ${safeName(column.charset)})` : text;
      return column.collation ? `${converted} COLLATE ${safeName(column.collation)}` : converted;
    }
  }
}

function safeName(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unexpected character set or collation name ${name}`);
  return name;
}

/** A key value for people: numbers and times as they are, text decoded, binary as 0x hex. */
function displayKeyValue(column: KeyColumn, value: string): string {
  if (column.kind === 'str') return JSON.stringify(Buffer.from(value, 'hex').toString('utf8'));
  if (column.kind === 'bin') return `0x${value}`;
  if (column.kind === 'time') return `'${value}'`;
  return value;
}

/** `id=42` or `(a, b)=(1, "x")`: a primary key as the report names it. */
export function displayTuple(key: WalkKey, tuple: KeyTuple): string {
  const shown = tuple.map((v, i) => displayKeyValue(key.columns[i]!, v));
  if (key.columns.length === 1) return `${key.columns[0]!.name}=${shown[0]}`;
  return `(${key.columns.slice(0, tuple.length).map((c) => c.name).join(', ')})=(${shown.join(', ')})`;
}

