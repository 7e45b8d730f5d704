// How a row travels: the SOURCE server renders each row as text the target loads directly, so the
// copy never converts a value in JavaScript (where DECIMAL(65,30), BIGINT UNSIGNED, DATETIME(6), zero
// dates or BIT would lose information), and the rendering runs as C inside the server instead of
// per-value JS work (measured: per-value JS encoding was a third of the copy's CPU on 2 cores).
// Two formats:
//   load   (default) LOAD DATA LOCAL INFILE lines: tab-separated, backslash-escaped, \N for NULL.
//          The target parses this at about half the CPU of INSERT statements (measured 0.95 s vs
//          1.88 s of server CPU for the same 500k rows), and the target is the copy's bottleneck.
//   insert (fallback where LOCAL INFILE is disabled) "(v1,v2,...)" tuples for multi-row INSERTs.
// In both: numbers as the server prints them (FLOAT widened to DOUBLE: a FLOAT prints 6 digits),
// BIT as its unsigned number, binary data as hex, everything else as utf8mb4 text (session in UTC).
import { q } from './connections.js';

export interface ColumnType {
  name: string;
  /** information_schema.COLUMNS.DATA_TYPE */
  dataType: string;
}

export type RowFormat = 'load' | 'insert';

type Kind = 'number' | 'float' | 'bit' | 'binary' | 'temporal' | 'text';

const NUMBERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'double', 'real', 'year']);
const TEMPORAL = new Set(['date', 'datetime', 'timestamp', 'time']);
const BINARY = new Set([
  'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob',
  'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection',
]);

function kindOf(column: ColumnType): Kind {
  const type = column.dataType.toLowerCase();
  if (type === 'float') return 'float';
  if (type === 'bit') return 'bit';
  if (NUMBERS.has(type)) return 'number';
  if (BINARY.has(type)) return 'binary';
  if (TEMPORAL.has(type)) return 'temporal';
  return 'text';
}

function insertValue(column: ColumnType): string {
  const c = q(column.name);
  switch (kindOf(column)) {
    case 'float':
      return `IFNULL(${c} + 0e0, 'NULL')`;
    case 'bit': // HEX() of a BIT is the hex of its number (odd length): write the number itself.
      return `IFNULL(${c} + 0, 'NULL')`;
    case 'number':
      return `IFNULL(${c}, 'NULL')`;
    case 'binary':
      return `IF(${c} IS NULL, 'NULL', CONCAT('X''', HEX(${c}), ''''))`;
    default:
      return `QUOTE(CONVERT(${c} USING utf8mb4))`;
  }
}

const NULL_FIELD = `'\\\\N'`; // SQL literal '\\N' = the two characters \N

function loadValue(column: ColumnType): string {
  const c = q(column.name);
  switch (kindOf(column)) {
    case 'float':
      return `IFNULL(${c} + 0e0, ${NULL_FIELD})`;
    case 'bit':
      return `IFNULL(${c} + 0, ${NULL_FIELD})`;
    case 'number':
      return `IFNULL(${c}, ${NULL_FIELD})`;
    case 'binary':
      return `IFNULL(HEX(${c}), ${NULL_FIELD})`;
    case 'temporal': // digits, dashes, colons, dots and spaces only: nothing to escape
      return `IFNULL(CONVERT(${c} USING utf8mb4), ${NULL_FIELD})`;
    default:
      // The escape character, the field and line terminators and NUL must be escaped.
      return `IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(CONVERT(${c} USING utf8mb4), '\\\\', '\\\\\\\\'), '\\t', '\\\\t'), '\\n', '\\\\n'), '\\0', '\\\\0'), ${NULL_FIELD})`;
  }
}

/** One SELECT expression that yields the whole row in the given format. */
export function rowExpression(columns: ColumnType[], format: RowFormat = 'insert'): string {
  if (format === 'insert') return `CONCAT('(', CONCAT_WS(',', ${columns.map(insertValue).join(', ')}), ')')`;
  return `CONCAT_WS('\\t', ${columns.map(loadValue).join(', ')})`;
}

/** Separator between rendered rows. */
export const ROW_SEPARATOR: Record<RowFormat, string> = { insert: ',', load: '\n' };

/**
 * The LOAD DATA statement for rows rendered with rowExpression(columns, 'load'). Binary columns arrive
 * as hex and BIT columns as numbers (LOAD DATA would store the digits' bytes), so both go through a
 * variable and a SET.
 */
export function loadStatement(schema: string, table: string, columns: ColumnType[]): string {
  const converted = columns.some((c) => kindOf(c) === 'binary' || kindOf(c) === 'bit');
  const targets: string[] = [];
  const sets: string[] = [];
  columns.forEach((column, i) => {
    const kind = kindOf(column);
    if (!converted) targets.push(q(column.name));
    else {
      // Once a SET clause exists MariaDB 10.11 ignores NO_AUTO_VALUE_ON_ZERO for columns loaded
      // directly (an AUTO_INCREMENT 0 became a new id; a test caught it): every column goes through
      // a variable then.
      targets.push(`@v${i}`);
      const value = kind === 'binary' ? `UNHEX(@v${i})` : kind === 'bit' ? `CAST(@v${i} AS UNSIGNED)` : `@v${i}`;
      sets.push(`${q(column.name)} = ${value}`);
    }
  });
  return (
    `LOAD DATA LOCAL INFILE 'crossmove-rows' INTO TABLE ${q(schema)}.${q(table)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '')
  );
}
