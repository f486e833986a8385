/**
 * Job ids are deterministic, so that re-running a job after a crash re-adds the
 * same successor (BullMQ ignores an add with an existing id) instead of a copy.
 * A message's recipients split into branches (one per first connector); each
 * job hands its undelivered recipients to at most one successor (hop + 1).
 */
export function jobId(messageId: string, branch: number, hop: number): string {
  return `${messageId}.${branch}.${hop}`;
}
