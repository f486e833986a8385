import type { Redis } from 'ioredis';

/** Told when a connection ended without being closed and is about to be connected again. */
export type ConnectionEndedHandler = (e: {
  /** Which connection ('producer', 'worker'). */
  connection: string;
  /** The last error before it ended, if any. */
  reason: string;
  /** Consecutive ends without a ready connection in between (1 the first time). */
  attempt: number;
  /** When it connects again, ms from now. */
  delayMs: number;
}) => void;

/** How long to wait before connecting an ended connection again: 100 ms more each time, at most 1 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(Math.max(attempt, 1) * 100, 1000);
}

/**
 * Makes a Redis connection never stay ended unless closed on purpose (quit()
 * or disconnect()). ioredis ends a connection for good when connect() fails,
 * whatever the retry strategy. With Sentinel that happens after a failover:
 * the failover detector's +switch-master closes the connector while connect()
 * still waits on a sentinel's answer, connect() fails with "Connection is
 * closed." and the client ends (ioredis 5.x SentinelConnector.connect checks
 * `connecting` after resolving; Redis#_connect sets status "end" on any
 * failure). Every holder of the client (MailQueue, BullMQ queues and workers)
 * keeps the same object, so it is connected again in place, after
 * reconnectDelay, and `onEnded` is told (the caller logs and counts it).
 */
export function superviseConnection(
  client: Redis,
  connection: string,
  onEnded: ConnectionEndedHandler = () => undefined,
): Redis {
  let closedOnPurpose = false;
  let ends = 0;
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    closedOnPurpose = true;
    clearTimeout(timer);
    timer = undefined;
  };
  // ioredis itself calls disconnect(true) to reconnect: only a plain disconnect() closes.
  const disconnect = client.disconnect.bind(client);
  client.disconnect = (reconnect = false) => {
    if (!reconnect) stop();
    disconnect(reconnect);
  };
  const sendCommand = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    if (command.name === 'quit') stop();
    return sendCommand(command, stream);
  };
  client.on('error', (err: Error) => (lastError = err.message));
  client.on('ready', () => (ends = 0));
  client.on('end', () => {
    if (closedOnPurpose) {
      // QUIT ends the connection but not a failover detector's sentinel
      // subscriptions: closing the connector cleans them up.
      disconnect();
      return;
    }
    if (timer) return;
    const attempt = ++ends;
    const delayMs = reconnectDelay(attempt);
    onEnded({ connection, reason: lastError, attempt, delayMs });
    timer = setTimeout(() => {
      timer = undefined;
      // A failed attempt ends the connection again, which schedules the next one.
      if (!closedOnPurpose && client.status === 'end') client.connect().catch(() => undefined);
    }, delayMs);
    timer.unref();
  });
  return client;
}
