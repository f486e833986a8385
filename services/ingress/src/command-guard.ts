import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included. */
export const MAX_COMMAND_LINE = 510;

/**
 * A RCPT argument smtp-server could not parse that still names a second host:
 * `"user@other"@host`, `user@other@host`. Answered as the relay probe it is.
 */
const RELAY_PROBE = /^\s*RCPT\s+TO\s*:\s*<[^<>]*@[^<>]*@[^<>]*>/i;

interface Connection {
  id: string;
  _upgrading?: boolean;
  _server: { logger: { debug: (meta: object, ...msg: unknown[]) => void } };
  send(code: number, data?: string | string[], context?: string | false): void;
  _whenWritable?: (next: () => void) => void;
  _parseAddressCommand(name: string, command: Buffer | string): false | { address?: string };
}

type Handler = (this: Connection, command: Buffer | string, callback?: () => void) => unknown;

let installed = false;

/**
 * Guards smtp-server's command path (installed once, like the enhanced status
 * code adapter), for what smtp-server accepts but a gateway must not:
 * - a command line over 512 octets ⇒ `500 5.5.6 Line too long`;
 * - a NUL octet in a command ⇒ `500 5.5.2` (never reaches a handler);
 * - a RCPT relay probe smtp-server cannot parse (`"u@other"@host`,
 *   `u@other@host`) ⇒ `550 5.7.1 Unable to relay` instead of a bare 501.
 * Lines that arrive while STARTTLS is upgrading go to smtp-server untouched:
 * it discards them (STARTTLS command injection).
 */
export function installCommandGuard(): void {
  if (installed) return;
  installed = true;
  const proto = SMTPConnection.prototype as unknown as {
    _onCommand: Handler;
    handler_RCPT: Handler;
  };
  const onCommand = proto._onCommand;
  proto._onCommand = function (
    this: Connection,
    command: Buffer | string,
    callback?: () => void,
  ): unknown {
    if (this._upgrading) return onCommand.call(this, command, callback);
    const line = Buffer.isBuffer(command) ? command : Buffer.from(command ?? '', 'binary');
    const tooLong = line.length > MAX_COMMAND_LINE;
    const nul = line.includes(0);
    if (!tooLong && !nul) return onCommand.call(this, command, callback);
    const verb =
      line
        .subarray(0, Math.min(line.length, 16))
        .toString('latin1')
        .split(/[\s\0]/)[0]
        ?.toUpperCase() ?? '';
    this._server.logger.debug(
      { tnx: 'command', cid: this.id },
      'C:',
      `${verb.replace(/[^A-Z]/g, '?')} [${line.length} octets refused]`,
    );
    if (tooLong) this.send(500, '5.5.6 Line too long (a command line is at most 512 octets)');
    else this.send(500, '5.5.2 NUL character in command');
    const next = callback ?? (() => undefined);
    setImmediate(() => (this._whenWritable ? this._whenWritable(next) : next()));
    return undefined;
  };
  const handlerRcpt = proto.handler_RCPT;
  proto.handler_RCPT = function (
    this: Connection,
    command: Buffer | string,
    callback?: () => void,
  ): unknown {
    const parsed = this._parseAddressCommand('rcpt to', command);
    if ((!parsed || !parsed.address) && RELAY_PROBE.test(command.toString())) {
      this.send(550, '5.7.1 Unable to relay');
      callback?.();
      return undefined;
    }
    return handlerRcpt.call(this, command, callback);
  };
}
