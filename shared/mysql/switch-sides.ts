// The two sides of a switch by the names operators read (source, target), and which one is the old
// primary in each direction. Texts about a switch (switch-words.ts, grants.ts, wait-position.ts) are
// given these names instead of assuming the cutover's direction.

/** cutover: source -> target; fallback: target -> source, through reverse replication. */
export type Direction = 'cutover' | 'fallback';
export type SideName = 'source' | 'target';

/** The old primary (blocked by the switch) and the new one (made writable). */
export interface SidePair {
  oldSide: SideName;
  newSide: SideName;
}

export const CUTOVER_SIDES: SidePair = { oldSide: 'source', newSide: 'target' };
const FALLBACK_SIDES: SidePair = { oldSide: 'target', newSide: 'source' };

export function sidesOf(direction: Direction): SidePair {
  return direction === 'cutover' ? CUTOVER_SIDES : FALLBACK_SIDES;
}
