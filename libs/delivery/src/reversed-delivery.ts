import type { Socket } from 'node:net';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { OutboundDelivery } from './outbound-delivery.js';
import type {
  OutboundRecipient,
  OutboundRequest,
  ProtocolLine,
  RecipientResult,
} from './outbound-types.js';
import type { DeliveryHost } from './resolve-mx.js';

/** One held message, sent in a reversed session. */
export interface ReversedMessage {
  sender: string;
  recipients: readonly OutboundRecipient[];
  body: Buffer;
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  body8bit?: boolean;
}

/** The client side of a session whose roles were reversed (ATRN/TURN): one transaction per message. */
export interface ReversedSession {
  /** Whether the peer still talks: false once the connection broke or it answered 421. */
  readonly open: boolean;
  send(message: ReversedMessage): Promise<RecipientResult[]>;
  /** QUIT (RFC 2645: the new client ends the session) and close. */
  quit(): Promise<void>;
}

/**
 * Delivery over a connection the peer opened (RFC 2645 ODMR, RFC 821 TURN):
 * after mailbus answered 250 to ATRN or TURN, the peer sends its 220 greeting
 * on the same socket and mailbus, now the client, sends EHLO and a transaction
 * per message, with the same per-recipient results as any outbound delivery.
 * nodemailer's SMTPConnection takes the open socket (its `connection` option);
 * TLS, if any, is already on it.
 */
export class ReversedDelivery extends OutboundDelivery {
  async reverse(
    socket: Socket,
    peer: DeliveryHost,
    heloName: string,
    onProtocol?: (l: ProtocolLine) => void,
  ): Promise<ReversedSession> {
    const base: OutboundRequest = {
      connector: '',
      hosts: [peer],
      heloName,
      heloInsteadOfEhlo: false,
      sender: '',
      recipients: [],
      body: Buffer.alloc(0),
      security: { tls: 'none', verifyCertificates: false },
      ...(onProtocol ? { onProtocol } : {}),
    };
    linePerRecord(socket);
    const conn = await this.open(peer, base, socket);
    let open = true;
    let clean = true;
    return {
      get open() {
        return open;
      },
      send: async (m) => {
        if (!clean) await reset(conn);
        const outcome = await this.transaction(conn, peer, {
          ...base,
          sender: m.sender,
          recipients: m.recipients,
          body: m.body,
          ...(m.envId ? { envId: m.envId } : {}),
          ...(m.ret ? { ret: m.ret } : {}),
          ...(m.body8bit ? { body8bit: true } : {}),
        });
        clean = outcome.clean;
        if (outcome.sessionLost || !outcome.reusable) open = false;
        return outcome.results;
      },
      quit: async () => {
        if (open) {
          open = false;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 5000);
            conn.once('end', () => (clearTimeout(t), resolve()));
            conn.quit();
          });
        }
        conn.close();
      },
    };
  }
}

function reset(conn: SMTPConnection): Promise<void> {
  return new Promise((resolve, reject) => conn.reset((err) => (err ? reject(err) : resolve())));
}

/**
 * Every write of the reversed session goes out as its own lines, one write
 * (one TLS record) per line, never merged. fetchmail relays a reversed session
 * line by line, waiting in select() on the socket between lines: a second line
 * in the same TLS record waits in OpenSSL's buffer where select() cannot see
 * it, and the session stalls (seen with pipelined MAIL/RCPT/DATA and with the
 * final "." in one record).
 */
function linePerRecord(socket: Socket): void {
  // Writes queued behind one another would otherwise reach TLS as one writev (one record).
  (socket as unknown as { _writev: unknown })._writev = null;
  const write = socket.write.bind(socket) as (
    chunk: Buffer,
    cb?: (err?: Error | null) => void,
  ) => boolean;
  socket.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const cb = rest.find((r): r is (err?: Error | null) => void => typeof r === 'function');
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk);
    let ok = true;
    let start = 0;
    for (
      let nl = buf.indexOf(0x0a);
      nl >= 0 && nl < buf.length - 1;
      nl = buf.indexOf(0x0a, start)
    ) {
      ok = write(buf.subarray(start, nl + 1)) && ok;
      start = nl + 1;
    }
    return write(buf.subarray(start), cb) && ok;
  }) as Socket['write'];
}
