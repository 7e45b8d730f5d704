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

/** Writes rendered rows to the target; resolves with the bytes sent. */
interface Writer {
  /** Bytes a batch adds besides its rows (the INSERT head); null = no size limit (LOAD DATA streams). */
  overhead: number | null;
  write: (parts: string[]) => Promise<number>;
}

function batchWriter(target: Conn, chunk: Chunk, format: RowFormat): Writer {
  const t = chunk.table;
  if (format === 'insert') {
    const head = `INSERT INTO ${q(t.schema)}.${q(t.name)} (${t.columns.map(q).join(',')}) VALUES `;
    return {
      overhead: head.length,
      write: async (parts) => {
        const text = head + parts.join(',');
        await target.query(text);
        return text.length;
      },
    };
  }
  const sql = loadStatement(t.schema, t.name, t.columnTypes);
  return {
    overhead: null,
    write: async (parts) => {
      const data = Buffer.from(parts.join('\n') + '\n', 'utf8');
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
    let parts: string[] = [];
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
      parts = [];
      size = 0;
      pending++;
      chain = chain.then(async () => {
        if (failed) return;
        const bytes = await writer.write(batch);
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

    const query = core.query({ sql: select, rowsAsArray: true });
    query.on('result', (row: [string | Buffer | null]) => {
      if (failed) return;
      const rendered = row[0];
      if (rendered === null) {
        fail(new Error(`a row of ${from} is longer than the source's max_allowed_packet once rendered; raise max_allowed_packet on the source`));
        return;
      }
      const text = typeof rendered === 'string' ? rendered : rendered.toString('utf8');
      if (writer.overhead !== null) {
        if (text.length + writer.overhead >= limits.maxStatementBytes) {
          fail(new Error(`a row of ${from} needs an INSERT longer than the target's max_allowed_packet; raise it on the target (or allow LOAD DATA LOCAL)`));
          return;
        }
        if (size + text.length + writer.overhead >= limits.maxStatementBytes) send();
      }
      parts.push(text);
      size += text.length + 1;
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
