// Copies one sub-chunk: streams the rows (bounded columns rendered by the source, LOB values raw: see
// values.ts) from the worker's source connection and writes them to the target in batches of about
// batchBytes (LOAD DATA LOCAL, or multi-row INSERTs). While one batch is written the next is read; the
// source stream is paused only when two batches are waiting, so memory stays bounded.
// Nothing may change a value silently: a rendered part that comes back NULL (it overflowed), any
// warning of the read, and any warning of a load not proven harmless (warnings.ts) fail the chunk.
// A row too long for one INSERT (where LOAD DATA is not allowed) travels in pieces: its LOB values
// are assembled in session variables by statements that each fit the target's max_allowed_packet.
// (Reading whole key ranges as one GROUP_CONCAT value saved some JS work but made MariaDB create an
// on-disk temporary table per slice: a row-by-row stream costs about the same CPU and no disk.)
import { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import type { ResultSetHeader } from 'mysql2/promise';
import { type Conn, q } from './connections.js';
import type { KeyTuple } from '../chunks/key-values.js';
import { keySelectList } from '../chunks/key-values.js';
import type { WalkKey } from '../chunks/keys.js';
import { forceIndex, orderByKey, rangeWhere } from '../chunks/range-sql.js';
import { encodeLong, loadStatement, pieceEnd, pieceLiteral, rowRead, type ColumnType, type ReadField, type RowFormat } from './values.js';
import { RowBatch } from './row-batch.js';
import { describeWarnings, lastWarnings, unprovenWarnings } from './warnings.js';

interface ChunkCopied {
  rows: number;
  bytes: number;
}

export interface CopyLimits {
  batchBytes: number;
  /** Longest INSERT the target accepts (below its max_allowed_packet). */
  maxStatementBytes: number;
  format: RowFormat;
}

type OnBatch = (rows: number, bytes: number) => void;
type RawRow = (Buffer | null)[];

/** Writes rendered rows (the raw utf8mb4 bytes) to the target; resolves with the bytes sent. */
interface Writer {
  /** Bytes a batch adds besides its rows (the INSERT head); null = no size limit (LOAD DATA streams). */
  overhead: number | null;
  write: (batch: RowBatch) => Promise<number>;
  /** One row whose INSERT would not fit in a packet, written in pieces (insert format only). */
  writeInPieces: (row: RawRow) => Promise<number>;
}

/**
 * LOCAL INFILE packets of at most this size: mysql2 copies each piece into a fresh buffer of its own
 * (header + data), and a fresh buffer of 2 MiB costs a page fault per 4 KiB first written, where
 * pieces of 256 KiB come from memory malloc reuses (measured: about a fifth of the CPU per byte).
 */
const INFILE_PACKET_BYTES = 256 * 1024;

/** Pieces of at most `size` bytes (views, no copy): one LOCAL INFILE packet must fit max_allowed_packet. */
function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** One row as the format writes it, in pieces (joined in the batch): rendered parts as they came, LOB values encoded. */
function encodeRow(row: RawRow, fields: ReadField[], format: RowFormat, from: string): Buffer | Buffer[] {
  if (fields.length === 1 && fields[0]!.kind === 'rendered') {
    if (row[0] === null) throw overflowed(from, fields[0]!.columns);
    return row[0]!;
  }
  const pieces: Buffer[] = [];
  let i = 0;
  for (const field of fields) {
    if (field.kind === 'literal') {
      pieces.push(field.bytes);
      continue;
    }
    const value = row[i++] ?? null;
    if (field.kind === 'rendered') {
      if (value === null) throw overflowed(from, field.columns);
      pieces.push(value);
    } else pieces.push(...encodeLong(value, field.binary, format));
  }
  return pieces;
}

function byteLength(row: Buffer | Buffer[]): number {
  if (Buffer.isBuffer(row)) return row.length;
  let n = 0;
  for (const p of row) n += p.length;
  return n;
}

function overflowed(from: string, columns: string[]): Error {
  return new Error(
    `the source rendered a value of ${from} (one of ${columns.join(', ')}) as NULL: it is longer than the source's max_allowed_packet once rendered; raise max_allowed_packet on the source`,
  );
}

function batchWriter(target: Conn, t: CopyTable, limits: CopyLimits, fields: ReadField[]): Writer {
  const name = `${t.schema}.${t.name}`;
  const format = limits.format;
  const checked = async (result: ResultSetHeader, rows: () => Buffer[]) => {
    if (!result.warningStatus) return;
    const warnings = await lastWarnings(target);
    const unproven = unprovenWarnings(warnings, result.warningStatus, rows(), t.columnTypes, format);
    if (unproven.length) {
      throw new Error(
        `the target warned while loading ${name}, so a value may have changed: ${describeWarnings(unproven)}. ` +
          'The copy stops rather than store it; fix the cause (the target server\'s settings or version must accept what the source holds) and run again',
      );
    }
  };

  if (format === 'insert') {
    const head = `INSERT INTO ${q(t.schema)}.${q(t.name)} (${t.columns.map(q).join(',')}) VALUES `;
    const insert = async (rows: () => Buffer[], values: Buffer) => {
      if (!isUtf8(values)) throw new Error(`a row of ${name} is not valid utf8mb4 once rendered`);
      const text = head + values.toString('utf8');
      const [result] = await target.query<ResultSetHeader>(text);
      await checked(result, rows);
      return text.length;
    };
    return {
      overhead: Buffer.byteLength(head),
      write: (batch) => insert(() => batch.list(), batch.data(false)),
      writeInPieces: async (row) => {
        // Each piece's statement: SET @v = CONCAT(@v, <hex, converted>), below maxStatementBytes.
        const pieceBytes = Math.max(1024, Math.floor((limits.maxStatementBytes - 256) / 2));
        const variables: string[] = [];
        let sent = 0;
        const tuple: Buffer[] = [];
        let i = 0;
        for (const field of fields) {
          if (field.kind === 'literal') {
            tuple.push(field.bytes);
            continue;
          }
          const value = row[i++] ?? null;
          if (field.kind === 'rendered') tuple.push(value!);
          else if (value === null) tuple.push(...encodeLong(null, field.binary, format));
          else {
            const variable = `@crossmove_v${i}`;
            variables.push(variable);
            let at = 0;
            do {
              const end = pieceEnd(value, at, pieceBytes, !field.binary);
              const piece = pieceLiteral(value.subarray(at, end), field.binary ? null : field.charset);
              const sql = at === 0 ? `SET ${variable} = ${piece}` : `SET ${variable} = CONCAT(${variable}, ${piece})`;
              const [result] = await target.query<ResultSetHeader>(sql);
              await checked(result, () => []);
              sent += sql.length;
              at = end;
            } while (at < value.length);
            tuple.push(Buffer.from(variable));
          }
        }
        const values = Buffer.concat(tuple);
        if (values.length + head.length >= limits.maxStatementBytes) {
          throw new Error(`a row of ${name} needs an INSERT longer than the target's max_allowed_packet even without its LOB values; raise it on the target (or allow LOAD DATA LOCAL)`);
        }
        try {
          sent += await insert(() => [values], values);
        } finally {
          if (variables.length) await target.query(`SET ${variables.map((v) => `${v} = NULL`).join(', ')}`);
        }
        return sent;
      },
    };
  }
  const sql = loadStatement(t.schema, t.name, t.columnTypes);
  return {
    overhead: null,
    write: async (batch) => {
      // Bytes as the source sent them: no decoding and re-encoding of every row in JS.
      const data = batch.data(true);
      const [result] = await target.query<ResultSetHeader>({ sql, infileStreamFactory: () => Readable.from(slices(data, Math.min(limits.batchBytes, INFILE_PACKET_BYTES))) } as never);
      // LOCAL turns row errors (duplicates, bad values) into warnings and skips the row: count them.
      if (result.affectedRows !== batch.rows) {
        throw new Error(`LOAD DATA into ${name} stored ${result.affectedRows} of ${batch.rows} rows (${result.warningStatus ?? '?'} warnings)`);
      }
      await checked(result, () => batch.list());
      return data.length;
    },
    writeInPieces: () => Promise.reject(new Error('LOAD DATA has no size limit per row')),
  };
}

/** A table as the copy writes it: its copied columns (generated ones excluded) and their types. */
interface CopyTable {
  schema: string;
  name: string;
  columns: string[];
  columnTypes: ColumnType[];
}

/**
 * What one sub-chunk reads: the rows of [from, hi) of the walk key in key order, at most `maxRows`
 * (the (maxRows+1)th row only tells where the next sub-chunk starts), or the whole table when it has
 * no walk key (key null).
 */
export interface RangeRead {
  table: CopyTable;
  key: WalkKey | null;
  /** Inclusive lower bound (null: from the first row). */
  from: KeyTuple | null;
  /** Exclusive upper bound (null: to the last row). */
  hi: KeyTuple | null;
  maxRows: number;
}

export interface RangeCopied extends ChunkCopied {
  /** Where the next sub-chunk of the range starts; null: this one reached `hi`. */
  next: KeyTuple | null;
}

/** The SELECT of a sub-chunk: rendered row fields, then (with a key) the key values of each row. */
function rangeSelect(read: RangeRead, rowFields: string): string {
  const t = read.table;
  const from = `${q(t.schema)}.${q(t.name)}`;
  if (!read.key) return `SELECT ${rowFields} FROM ${from}`;
  const where = rangeWhere(read.key, { lo: read.from, hi: read.hi });
  return `SELECT ${rowFields}, ${keySelectList(read.key)} FROM ${from} ${forceIndex(read.key)} WHERE ${where} ORDER BY ${orderByKey(read.key)} LIMIT ${Math.max(1, Math.floor(read.maxRows)) + 1}`;
}

/**
 * Copies one sub-chunk from `source` into `target` (a connection inside the caller's transaction, so
 * the rows commit with the cursor that covers them). One pass: rows are streamed in key order and
 * written in batches while the next ones are read; the row after the last one copied is not copied,
 * its key is where the next sub-chunk starts.
 */
export function copyRange(source: Conn, target: Conn, read: RangeRead, limits: CopyLimits, onBatch: OnBatch): Promise<RangeCopied> {
  const t = read.table;
  const from = `${q(t.schema)}.${q(t.name)}`;
  const rowRead_ = rowRead(t.columnTypes, limits.format);
  const select = rangeSelect(read, rowRead_.select);
  const readFields = rowRead_.fields.filter((f) => f.kind !== 'literal').length;
  const keyColumns = read.key?.columns.length ?? 0;
  const limit = read.key ? Math.max(1, Math.floor(read.maxRows)) : Number.POSITIVE_INFINITY;
  const hasLong = rowRead_.fields.some((f) => f.kind === 'long');
  const writer = batchWriter(target, t, limits, rowRead_.fields);
  const core = (source as unknown as { connection: any }).connection;

  const separator = limits.format === 'load' ? 0x0a : 0x2c;
  // Room for a batch and the row that takes it past batchBytes (a longer row gets a batch of its own).
  const newBatch = (rowBytes = 0) => new RowBatch(Math.max(limits.batchBytes + 64 * 1024, rowBytes + 1), separator);

  return new Promise((resolve, reject) => {
    let batch = newBatch();
    let chain: Promise<void> = Promise.resolve();
    let pending = 0;
    let paused = false;
    let failed = false;
    let ended = false;
    let seen = 0;
    let next: KeyTuple | null = null;
    const total: ChunkCopied = { rows: 0, bytes: 0 };

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      if (paused) core.resume();
      reject(err);
    };
    const enqueue = (rows: number, job: () => Promise<number>) => {
      pending++;
      chain = chain.then(async () => {
        if (failed) return;
        const bytes = await job();
        pending--;
        total.rows += rows;
        total.bytes += bytes;
        onBatch(rows, bytes);
        if (paused && pending < 2) {
          paused = false;
          core.resume();
        }
      });
      chain.catch(fail);
      // Never once the rows have ended: mysql2 loses the start of the next command (SHOW WARNINGS)
      // when the connection is paused from inside the handler of the last packet.
      if (pending >= 2 && !paused && !ended) {
        paused = true;
        core.pause();
      }
    };
    const send = () => {
      if (!batch.rows) return;
      const full = batch;
      batch = newBatch();
      enqueue(full.rows, async () => {
        const sent = await writer.write(full);
        full.release();
        return sent;
      });
    };

    const query = core.query({ sql: select, rowsAsArray: true, typeCast: false });
    query.on('result', (raw: RawRow) => {
      if (failed) return;
      seen++;
      if (seen > limit) {
        // The first row of the next sub-chunk: only its key is used.
        next = raw.slice(readFields, readFields + keyColumns).map((v) => (v === null ? '' : v.toString('utf8')));
        return;
      }
      // The key values after the row's fields are not read (fields are taken by position): no copy of the row.
      const row = raw;
      let rendered: Buffer | Buffer[];
      try {
        rendered = encodeRow(row, rowRead_.fields, limits.format, from);
      } catch (err) {
        fail(err);
        return;
      }
      const bytes = byteLength(rendered);
      if (writer.overhead !== null) {
        if (bytes + writer.overhead >= limits.maxStatementBytes) {
          if (!hasLong) {
            fail(new Error(`a row of ${from} needs an INSERT longer than the target's max_allowed_packet; raise it on the target (or allow LOAD DATA LOCAL)`));
            return;
          }
          send();
          enqueue(1, () => writer.writeInPieces(row));
          return;
        }
        if (batch.size + bytes + writer.overhead >= limits.maxStatementBytes) send();
      }
      if (!batch.fits(bytes)) {
        send();
        if (!batch.fits(bytes)) batch = newBatch(bytes);
      }
      batch.append(rendered, bytes);
      if (batch.size >= limits.batchBytes) send();
    });
    query.on('error', fail);
    query.on('end', () => {
      ended = true;
      if (failed) return;
      send();
      const readWarnings = lastWarnings(source).then((warnings) => {
        if (warnings.length) {
          throw new Error(`the source warned while reading ${from}, so a value may have changed: ${describeWarnings(warnings)}. The copy stops rather than store it`);
        }
      });
      Promise.all([chain, readWarnings]).then(() => resolve({ ...total, next }), fail);
    });
  });
}
