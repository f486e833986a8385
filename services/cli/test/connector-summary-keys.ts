/** A connector's summary as `connector status --json` gave it before routing groups were sites (b4cc0746). */
export const CONNECTOR_SUMMARY_KEYS = [
  'depth',
  'frozen',
  'link',
  'local',
  'name',
  'oldestAgeSeconds',
  'oldestReceivedAt',
  'partial',
  'queues',
  'remoteTriggered',
];
/** Its depth's states. */
export const CONNECTOR_DEPTH_KEYS = ['active', 'delayed', 'failed', 'held', 'retrying', 'waiting'];
