import type { OutboundRequest, OutboundResult } from '../src/index.js';

/** Short timeouts: every peer in these tests is on loopback. */
export const TIMEOUTS = { connectMs: 2_000, greetingMs: 2_000, socketMs: 5_000 };

/** A one-recipient request to a peer on 127.0.0.1:port, with fields replaced by `over`. */
export function request(port: number, over: Partial<OutboundRequest> = {}): OutboundRequest {
  return {
    connector: 'Internet',
    hosts: [{ name: 'mx.fabrikam.test', address: '127.0.0.1', port }],
    heloName: 'mail.contoso.com',
    heloInsteadOfEhlo: false,
    sender: 'alice@contoso.com',
    recipients: [{ address: 'bob@fabrikam.test' }],
    body: Buffer.from('Subject: hello\r\n\r\nfirst\r\n'),
    security: { tls: 'none', verifyCertificates: false },
    ...over,
  };
}

/** Each recipient's outcome as "address status". */
export const statuses = (r: OutboundResult) => r.results.map((x) => `${x.recipient} ${x.status}`);
