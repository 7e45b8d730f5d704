// SQL for key ranges [lo, hi) over a walk key (lo/hi null = open). Tuple comparisons are written in
// the expanded OR form pt-table-checksum's TableNibbler and Vitess's rowstreamer use, never as
// (a, b) >= (x, y): MySQL runs a row-constructor comparison as a full scan where the OR form is an
// index range. The leading column is repeated as a plain bound so that every optimiser sees the range.
// A boundary may be a prefix of the key: it then compares that prefix only.
import { ident } from '../mysql/connection.js';
import type { KeyTuple } from './key-values.js';
import { keyLiteral } from './key-values.js';
import type { WalkKey } from './keys.js';

export interface KeyRange {
  /** Inclusive lower bound, or null for no lower bound. */
  lo: KeyTuple | null;
  /** Exclusive upper bound, or null for no upper bound. */
  hi: KeyTuple | null;
}

type Op = '>=' | '>' | '<' | '<=';

/** (key) op (tuple) in the expanded form. */
function tupleCondition(key: WalkKey, tuple: KeyTuple, op: Op, alias?: string): string {
  if (!tuple.length || tuple.length > key.columns.length) throw new Error(`a boundary of ${tuple.length} values for a key of ${key.columns.length} columns`);
  const col = (i: number) => (alias ? `${alias}.${ident(key.columns[i]!.name)}` : ident(key.columns[i]!.name));
  const lit = (i: number) => keyLiteral(key.columns[i]!, tuple[i]!);
  const strict = op === '>' || op === '<' ? op : op === '>=' ? '>' : '<';
  const terms: string[] = [];
  for (let i = 0; i < tuple.length; i++) {
    const equal = Array.from({ length: i }, (_, j) => `${col(j)} = ${lit(j)}`);
    const last = i === tuple.length - 1 ? `${col(i)} ${op} ${lit(i)}` : `${col(i)} ${strict} ${lit(i)}`;
    terms.push(equal.length ? `(${[...equal, last].join(' AND ')})` : `(${last})`);
  }
  const leading = op === '>' || op === '>=' ? '>=' : '<=';
  const whole = terms.length === 1 ? terms[0]! : `(${terms.join(' OR ')})`;
  return tuple.length === 1 ? whole : `${col(0)} ${leading} ${lit(0)} AND ${whole}`;
}

/** The WHERE condition of a range (TRUE when it is unbounded). */
export function rangeWhere(key: WalkKey, range: KeyRange, alias?: string): string {
  const parts: string[] = [];
  if (range.lo) parts.push(tupleCondition(key, range.lo, '>=', alias));
  if (range.hi) parts.push(tupleCondition(key, range.hi, '<', alias));
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** `FORCE INDEX (...)`: the walk follows its key, whatever the optimiser would pick. */
export function forceIndex(key: WalkKey): string {
  return `FORCE INDEX (${key.index === 'PRIMARY' ? 'PRIMARY' : ident(key.index)})`;
}

export function orderByKey(key: WalkKey, alias?: string): string {
  return key.columns.map((c) => (alias ? `${alias}.${ident(c.name)}` : ident(c.name))).join(', ');
}

/** A row's full key equals this tuple (for looking rows up by primary key). */
export function keyEquals(key: WalkKey, tuple: KeyTuple, alias?: string): string {
  return key.columns.map((c, i) => `${alias ? `${alias}.` : ''}${ident(c.name)} = ${keyLiteral(c, tuple[i]!)}`).join(' AND ');
}
