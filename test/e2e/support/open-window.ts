/**
 * A time zone whose wall clock reads about noon now, and a window of it that
 * opened at 11:00 local today: every node computes that opening as the due
 * time of a connection time, whenever in the window it starts.
 */
export function windowOpenNow(): { timezone: string; schedule: string } {
  const offset = 12 - new Date().getUTCHours();
  return {
    timezone: offset >= 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`,
    schedule: 'Mon-Sun 11:00-14:00',
  };
}
