import type { Queue } from 'bullmq';
import { connectorStatus, type ConnectorSummary } from './connector-status.js';
import type { DeliveryJobData } from './delivery-job.js';
import type { MailQueue } from './mail-queue.js';
import {
  checkMoveEnds,
  deleteJob,
  moveAll,
  moveOne,
  retryConnector,
  type DeleteOptions,
  type MoveResult,
} from './message-actions.js';
import { organizationStatus, siteGroup, type OrganizationStatus } from './organization-status.js';
import { QueueOperationError } from './queue-operation-error.js';
import {
  listMessages,
  lookUpMessage,
  type ListMessagesOptions,
  type MessageLookup,
  type QueuedMessage,
} from './queue-listing.js';

export interface QueueOperationsOptions {
  /** The routing group of this site (routing groups as sites); default: siteGroup of the queue's Redis. */
  routingGroup?: string;
  /** Sends a DSN for the recipients of a deleted job; without it, delete with DSN is refused. */
  sendDsn?: (job: DeliveryJobData, reason: string) => Promise<void>;
  /** Jobs read per state and partition to split delayed jobs and find the oldest (default 10,000). */
  scanLimit?: number;
}

/**
 * Every operator action on the queues, on Redis only, so that the REST API
 * and the CLI do exactly the same thing from any node: connector status and
 * depth, freeze / unfreeze, retry now, list, delete (with or without DSN) and
 * move messages, look a message up. This class resolves connector names and
 * holds the settings; the work is in connector-status.ts (status and depth),
 * queue-listing.ts (list, look up) and message-actions.ts (retry, delete, move).
 */

export class QueueOperations {
  private readonly scanLimit: number;
  private readonly remoteTriggered: Set<string>;

  constructor(
    private readonly queue: MailQueue,
    private readonly options: QueueOperationsOptions = {},
  ) {
    this.scanLimit = options.scanLimit ?? 10_000;
    this.remoteTriggered = new Set(
      queue.config.connectors.filter((c) => c.delivery.remoteTriggered).map((c) => c.name),
    );
  }

  /** Connector names in config order, then `@local`. */
  names(): string[] {
    return this.queue.connectorNames();
  }

  /** The configured spelling of a connector name (case-insensitive), or MAILBUS_ERR_UNKNOWN_CONNECTOR. */
  resolve(connector: string): string {
    const found = this.names().find((n) => n.toLowerCase() === connector.toLowerCase());
    if (!found) {
      throw new QueueOperationError(
        'MAILBUS_ERR_UNKNOWN_CONNECTOR',
        `unknown connector "${connector}"; known: ${this.names().join(', ')}`,
      );
    }
    return found;
  }

  /** Every partition queue of every connector (for Bull Board). */
  allQueues(): Queue<DeliveryJobData>[] {
    return this.names().flatMap((n) => this.queue.queues.all(n));
  }

  /** Status and depth of every connector, in config order, `@local` last. */
  async connectors(now: number): Promise<ConnectorSummary[]> {
    return Promise.all(this.names().map((n) => this.connector(n, now)));
  }

  /**
   * With routing groups as sites: every connector of the organisation grouped
   * by routing group, as this site sees it (organizationStatus); undefined otherwise.
   */
  async organization(now: number): Promise<OrganizationStatus | undefined> {
    const config = this.queue.config;
    const here = this.options.routingGroup ?? siteGroup(config, undefined, config.redis.url);
    return organizationStatus(config, this.queue, this, here, now);
  }

  /** Status and depth of one connector. */
  async connector(name: string, now: number): Promise<ConnectorSummary> {
    const connector = this.resolve(name);
    return connectorStatus(this.queue, this.remoteTriggered, this.scanLimit, connector, now);
  }

  /** Stops delivery from a connector on every node (pauses every partition); mail keeps queueing. */
  async freeze(connector: string): Promise<void> {
    const c = this.resolve(connector);
    await Promise.all(this.queue.queues.all(c).map((q) => q.pause()));
  }

  /** Resumes delivery from a frozen connector. */
  async unfreeze(connector: string): Promise<void> {
    const c = this.resolve(connector);
    await Promise.all(this.queue.queues.all(c).map((q) => q.resume()));
  }

  /**
   * "Force connection": every delayed job of the connector (schedule, retry
   * interval, held) becomes due now, every parked (`failed`) job is tried
   * again, new mail is not held by the schedule for FORCE_WINDOW_MS, and the
   * link state is forgotten so routing and failover use the connector again.
   * Returns how many jobs were promoted and how many parked jobs retried.
   */
  async retryNow(connector: string): Promise<{ promoted: number; retried: number }> {
    const c = this.resolve(connector);
    return retryConnector(this.queue, c, this.scanLimit);
  }

  /** Messages of a connector, by state (all states when none), oldest first within a state. */
  async listMessages(
    connector: string,
    options: ListMessagesOptions = {},
  ): Promise<QueuedMessage[]> {
    const c = this.resolve(connector);
    return listMessages(this.queue, this.remoteTriggered, c, options);
  }

  /**
   * Deletes a queued job and releases its body. With `dsn`, the sender gets a
   * non-delivery report for the job's recipients (after the job is gone, so a
   * job delivered meanwhile never gets a false report).
   */
  async deleteMessage(
    connector: string,
    jobId: string,
    options: DeleteOptions,
  ): Promise<{ queueId: string; jobId: string; dsn: boolean }> {
    const c = this.resolve(connector);
    return deleteJob(this.queue, this.options.sendDsn, c, jobId, options);
  }

  /** Moves one job to another connector, to be delivered there under that connector's schedule. */
  async moveMessage(
    fromConnector: string,
    jobId: string,
    toConnector: string,
  ): Promise<MoveResult> {
    const [from, to] = this.moveEnds(fromConnector, toConnector);
    return moveOne(this.queue, from, jobId, to);
  }

  /** Moves every job that is not being delivered right now from one connector to another. */
  async moveQueue(
    fromConnector: string,
    toConnector: string,
  ): Promise<{ moved: number; skipped: number }> {
    const [from, to] = this.moveEnds(fromConnector, toConnector);
    return moveAll(this.queue, from, to);
  }

  /**
   * A message by queue id, Message-ID, sender or recipient: its tracking
   * history and the jobs it still has in any queue.
   */
  async message(term: string, now = Date.now()): Promise<MessageLookup[]> {
    return lookUpMessage(this.queue, this.remoteTriggered, this.names(), term, now);
  }

  private moveEnds(fromConnector: string, toConnector: string): [string, string] {
    const from = this.resolve(fromConnector);
    const to = this.resolve(toConnector);
    checkMoveEnds(from, to);
    return [from, to];
  }
}
