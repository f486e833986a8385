import { SLOTS_PER_WEEK } from './local-time.js';

/** Which 15-minute slots of the local week are open: index 0 is Monday 00:00–00:15. */
export type SlotGrid = readonly boolean[];

export function emptyGrid(): boolean[] {
  return new Array<boolean>(SLOTS_PER_WEEK).fill(false);
}
