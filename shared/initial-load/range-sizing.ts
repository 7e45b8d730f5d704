// How big the copy's key ranges are planned. About 4 ranges per worker (total / (4 x parallelism)): a
// worker that finishes early takes the next range, so all stay busy to the end (with one range per
// table, 3 tables on 4 connections left a connection idle and the last table copied alone), and an
// interrupted copy redoes at most the open sub-chunk of each range. A floor keeps small tables from
// being split into ranges that cost more in claims than they copy (8 MiB, or 4 sub-chunks when
// sub-chunks are configured smaller), and a ceiling keeps one range at about a minute of one worker.
export const MIN_RANGE_BYTES = 8 * 1024 * 1024;
export const MAX_RANGE_BYTES = 1024 ** 3;

export function rangeBytesFor(totalBytes: number, parallelism: number, chunkBytes: number): number {
  const floor = Math.min(MIN_RANGE_BYTES, 4 * chunkBytes);
  return Math.min(MAX_RANGE_BYTES, Math.max(floor, totalBytes / (4 * Math.max(1, parallelism))));
}
