// How big the copy's ranges are planned: about 4 per worker, so that every worker stays busy to the end
// and an interrupted copy redoes little, within a floor and a ceiling.
import { describe, expect, it } from 'vitest';
import { MAX_RANGE_BYTES, MIN_RANGE_BYTES, rangeBytesFor } from '../../shared/initial-load/range-sizing.js';

const MiB = 1024 * 1024;

describe('copy range sizing', () => {
  it('plans about 4 ranges per worker of what is copied', () => {
    // 95 MB on 4 workers with 32 MiB sub-chunks: 128 MiB ranges made one range per table before.
    expect(rangeBytesFor(1000 * MiB, 4, 32 * MiB)).toBe(1000 * MiB / 16);
    expect(rangeBytesFor(1000 * MiB, 8, 32 * MiB)).toBe(1000 * MiB / 32);
  });

  it('never below 8 MiB (or 4 sub-chunks when they are smaller), never above 1 GiB', () => {
    expect(rangeBytesFor(95 * MiB, 4, 32 * MiB)).toBe(MIN_RANGE_BYTES);
    expect(rangeBytesFor(1 * MiB, 4, 64 * 1024)).toBe(256 * 1024);
    expect(rangeBytesFor(10_000 * 1024 * MiB, 2, 32 * MiB)).toBe(MAX_RANGE_BYTES);
    expect(rangeBytesFor(100 * MiB, 0, 32 * MiB)).toBe(100 * MiB / 4);
  });
});
