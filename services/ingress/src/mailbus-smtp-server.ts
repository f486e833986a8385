import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';
import { MailbusSmtpConnection, type MailbusSessionOptions } from './mailbus-smtp-connection.js';
import { newSessionId } from './session-id.js';

/**
 * smtp-server's server for a mailbus virtual server: every connection is a
 * MailbusSmtpConnection, and without a PROXY header to read the session id
 * comes from a pool of random bytes (session-id.ts). Only this server's
 * connections change; smtp-server itself is not patched.
 */
export class MailbusSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    readonly mailbus: MailbusSessionOptions,
  ) {
    super(options);
  }

  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    const connection = new MailbusSmtpConnection(this, socket, socketOptions);
    if (socket instanceof TLSSocket && socket.encrypted && !connection.secure) {
      // A socket handed over already encrypted (STARTTLS done before TURN/ATRN reversed the roles).
      connection.secure = connection.session.secure = true;
      connection.tlsOptions = connection.session.tlsOptions = socket.getCipher();
    }
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }

  /**
   * Serves SMTP on a socket that is already open, as if it had just been
   * accepted on the listener: the 220 greeting, then the peer's commands.
   * Resolves when the socket closes.
   */
  adopt(socket: Socket | TLSSocket): Promise<void> {
    return new Promise((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      this.connect(socket, { id: newSessionId(), ignore: false });
    });
  }

  override _handleProxy(
    socket: Socket,
    callback: (err: Error | null, socketOptions?: SMTPConnectionOptions & { id: string }) => void,
  ): void {
    if (this._expectsProxyHeader(socket)) return super._handleProxy(socket, callback);
    const ignore = Boolean(this.options.ignoredHosts?.includes(socket.remoteAddress ?? ''));
    const socketOptions = { id: newSessionId(), ignore };
    setImmediate(() => callback(null, socketOptions));
  }
}
