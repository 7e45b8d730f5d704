// The batch rows are copied into as they arrive: the bytes sent are the rows and their separators,
// exactly, and a buffer reused for the next batch never shows through in a batch still held.
import { describe, expect, it } from 'vitest';
import { RowBatch } from '../../shared/initial-load/row-batch.js';

describe('row batch', () => {
  it('holds the rows, each followed by its separator (INSERT tuples: none after the last)', () => {
    const lines = new RowBatch(64, 0x0a);
    lines.append(Buffer.from('1\ta'), 3);
    lines.append([Buffer.from('2\t'), Buffer.from('b\\\\n')], 6);
    expect(lines.rows).toBe(2);
    expect(lines.data(true).toString()).toBe('1\ta\n2\tb\\\\n\n');
    expect(lines.list().map(String)).toEqual(['1\ta', '2\tb\\\\n']);
    const tuples = new RowBatch(64, 0x2c);
    tuples.append(Buffer.from('(1)'), 3);
    tuples.append(Buffer.from('(2)'), 3);
    expect(tuples.data(false).toString()).toBe('(1),(2)');
  });

  it('says when a row does not fit, and refuses a row whose length was announced wrong', () => {
    const b = new RowBatch(8, 0x0a);
    expect(b.fits(7)).toBe(true);
    expect(b.fits(8)).toBe(false);
    b.append(Buffer.from('abc'), 3);
    expect(b.fits(3)).toBe(true);
    expect(b.fits(4)).toBe(false);
    expect(() => b.append(Buffer.from('xy'), 3)).toThrow(/announced/);
  });

  it('reuses a released buffer for a later batch only', () => {
    const first = new RowBatch(4096, 0x0a);
    first.append(Buffer.from('first'), 5);
    const held = new RowBatch(4096, 0x0a);
    held.append(Buffer.from('held'), 4);
    first.release();
    const next = new RowBatch(4096, 0x0a);
    next.append(Buffer.from('NEXT!'), 5);
    expect(held.data(true).toString()).toBe('held\n');
    expect(next.data(true).toString()).toBe('NEXT!\n');
  });
});
