import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';

const EXPLICIT = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;

/** A connection that sends a reply text starting with an enhanced status code as is. */
class VerbatimReplyConnection extends SMTPConnection {
  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (typeof data === 'string' && EXPLICIT.test(data)) return super.send(code, data, false);
    return super.send(code, data, context);
  }
}

/**
 * smtp-server for test peers: a reply the test gives as `"5.1.1 User unknown"`
 * goes on the wire as `550 5.1.1 User unknown`, as a real MTA writes it
 * (smtp-server alone would add its own code in front: `550 5.1.1 5.1.1 …`).
 */
export class VerbatimReplyServer extends SMTPServer {
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new VerbatimReplyConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }
}
