import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface ConnectionInternals {
  name: string;
  _server: {
    options: { maxClients?: number; mailbusGreetingDelayMs?: number };
    connections: Set<unknown>;
  };
  _setListeners(cb: () => void): void;
  send(code: number, text: string, context: false): void;
  connectionReady(): void;
}

let installed = false;

/**
 * smtp-server waits a hard-coded 100 ms before the 220 greeting to catch
 * early talkers. With one SMTP session per message that pause alone capped a
 * 20-session load at about 180 messages/s (bench/, docs/performance.md). This
 * makes the pause the virtual server's `limits.greetingDelay` (default 0),
 * passed as the server option `mailbusGreetingDelayMs`. A client that talks
 * before the greeting still gets 421 from smtp-server.
 */
export function installGreetingDelay(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as ConnectionInternals & { init(): void };
  proto.init = function (this: ConnectionInternals): void {
    this._setListeners(() => {
      const o = this._server.options;
      if (o.maxClients && this._server.connections.size > o.maxClients) {
        return this.send(
          421,
          `${this.name} Too many connected clients, try again in a moment`,
          false,
        );
      }
      const delay = o.mailbusGreetingDelayMs ?? 100;
      if (delay <= 0) return this.connectionReady();
      setTimeout(() => this.connectionReady(), delay).unref();
    });
  };
}
