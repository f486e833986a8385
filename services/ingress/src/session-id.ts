import { pooledRandom } from '@mailbus/queue';
import { SMTPServer } from 'smtp-server';
import type { Socket } from 'node:net';

interface ServerInternals {
  options: { ignoredHosts?: string[] };
  _expectsProxyHeader(socket: Socket): boolean;
  _handleProxy(
    socket: Socket,
    callback: (err: Error | null, socketOptions: { id: string; ignore?: boolean }) => void,
  ): void;
}

/** A session id as smtp-server makes it: 80 random bits, 16 base-32 characters. */
export function newSessionId(): string {
  return (
    pooledRandom(5).toString(32).padStart(8, '0') + pooledRandom(5).toString(32).padStart(8, '0')
  );
}

let installed = false;

/**
 * smtp-server draws each session id with its own crypto.randomBytes call (a
 * CSPRNG call per connection, 1.5 % of ingress CPU with one connection per
 * message in bench/). Without a PROXY header to read, the id now comes from a
 * pool of random bytes; everything else is smtp-server's own path.
 */
export function installPooledSessionIds(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPServer.prototype as unknown as ServerInternals;
  const original = proto._handleProxy;
  proto._handleProxy = function (this: ServerInternals, socket, callback) {
    if (this._expectsProxyHeader(socket)) return original.call(this, socket, callback);
    const ignore = Boolean(this.options.ignoredHosts?.includes(socket.remoteAddress ?? ''));
    const socketOptions = { id: newSessionId(), ignore };
    setImmediate(() => callback(null, socketOptions));
  };
}
