// Copies one chunk: streams the rows, already rendered by the source (values.ts), from the worker's
// snapshot connection and writes them to the target in batches of about batchBytes (LOAD DATA LOCAL,
// or multi-row INSERTs). While one batch is written the next is read; the source stream is paused
// only when two batches are waiting, so memory stays bounded.
// (Reading whole key ranges as one GROUP_CONCAT value saved some JS work but made MariaDB create an
// on-disk temporary table per slice: a row-by-row stream costs about the same CPU and no disk.)
import { Readable } from 'node:stream';
import type { ResultSetHeader } from 'mysql2/promise';
import { type Conn, q } from './connections.js';
import type { Chunk } from './chunks.js';
import { loadStatement, rowExpression, type RowFormat } from './values.js';

export interface ChunkCopied {
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

/** Writes rendered rows (the raw utf8mb4 bytes the source sent) to the target; resolves with the bytes sent. */
interface Writer {
  /** Bytes a batch adds besides its rows (the INSERT head); null = no size limit (LOAD DATA streams). */
  overhead: number | null;
  write: (parts: Buffer[], size: number) => Promise<number>;
}

/** The parts joined by one separator byte, with one more after the last part (size = their bytes + 1 each). */
function joined(parts: Buffer[], size: number, separator: number, trailing: boolean): Buffer {
  const out = Buffer.allocUnsafe(trailing ? size : size - 1);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    p.copy(out, at);
    at += p.length;
    if (trailing || i < parts.length - 1) out[at++] = separator;
  }
  return out;
}

function batchWriter(target: Conn, chunk: Chunk, format: RowFormat): Writer {
  const t = chunk.table;
  if (format === 'insert') {
    const head = `INSERT INTO ${q(t.schema)}.${q(t.name)} (${t.columns.map(q).join(',')}) VALUES `;
    return {
      overhead: Buffer.byteLength(head),
      write: async (parts, size) => {
        const text = head + joined(parts, size, 0x2c, false).toString('utf8');
        await target.query(text);
        return text.length;
      },
    };
  }
  const sql = loadStatement(t.schema, t.name, t.columnTypes);
  return {
    overhead: null,
    write: async (parts, size) => {
      // Bytes as the source sent them: no decoding and re-encoding of every row in JS.
      const data = joined(parts, size, 0x0a, true);
      const [result] = await target.query<ResultSetHeader>({ sql, infileStreamFactory: () => Readable.from([data]) } as never);
      // LOCAL turns row errors (duplicates, bad values) into warnings and skips the row: count them.
      if (result.affectedRows !== parts.length) {
        throw new Error(`LOAD DATA into ${t.schema}.${t.name} stored ${result.affectedRows} of ${parts.length} rows (${result.warningStatus ?? '?'} warnings)`);
      }
      return data.length;
    },
  };
}

export function copyChunk(source: Conn, target: Conn, chunk: Chunk, limits: CopyLimits, onBatch: OnBatch): Promise<ChunkCopied> {
  const t = chunk.table;
  const from = `${q(t.schema)}.${q(t.name)}`;
  const key = t.primaryKey[0] ? q(t.primaryKey[0]) : null;
  const where = chunk.range && key ? ` WHERE ${key} >= ${chunk.range.lo} AND ${key} < ${chunk.range.hi}` : '';
  const select = `SELECT ${rowExpression(t.columnTypes, limits.format)} FROM ${from}${where}`;
  const writer = batchWriter(target, chunk, limits.format);
  const core = (source as unknown as { connection: any }).connection;

  return new Promise((resolve, reject) => {
    let parts: Buffer[] = [];
    let size = 0;
    let chain: Promise<void> = Promise.resolve();
    let pending = 0;
    let paused = false;
    let failed = false;
    const total: ChunkCopied = { rows: 0, bytes: 0 };

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      if (paused) core.resume();
      reject(err);
    };
    const send = () => {
      if (!parts.length) return;
      const batch = parts;
      const batchSize = size;
      parts = [];
      size = 0;
      pending++;
      chain = chain.then(async () => {
        if (failed) return;
        const bytes = await writer.write(batch, batchSize);
        pending--;
        total.rows += batch.length;
        total.bytes += bytes;
        onBatch(batch.length, bytes);
        if (paused && pending < 2) {
          paused = false;
          core.resume();
        }
      });
      chain.catch(fail);
      if (pending >= 2 && !paused) {
        paused = true;
        core.pause();
      }
    };

    const query = core.query({ sql: select, rowsAsArray: true, typeCast: false });
    query.on('result', (row: [Buffer | null]) => {
      if (failed) return;
      const rendered = row[0];
      if (rendered === null) {
        fail(new Error(`a row of ${from} is longer than the source's max_allowed_packet once rendered; raise max_allowed_packet on the source`));
        return;
      }
      if (writer.overhead !== null) {
        if (rendered.length + writer.overhead >= limits.maxStatementBytes) {
          fail(new Error(`a row of ${from} needs an INSERT longer than the target's max_allowed_packet; raise it on the target (or allow LOAD DATA LOCAL)`));
          return;
        }
        if (size + rendered.length + writer.overhead >= limits.maxStatementBytes) send();
      }
      parts.push(rendered);
      size += rendered.length + 1;
      if (size >= limits.batchBytes) send();
    });
    query.on('error', fail);
    query.on('end', () => {
      if (failed) return;
      send();
      chain.then(() => resolve(total), fail);
    });
  });
}
