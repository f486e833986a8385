import type { SMTPServerSession } from 'smtp-server';
import type { VirtualServer } from '@mailbus/config';
import type { JobRecipient } from '@mailbus/queue';
import { buildIpList, ipInList, trustsSite, type SessionClient } from '@mailbus/routing';
import type { LoggedSession } from './inbound-protocol-log.js';

export interface SessionState extends LoggedSession {
  clientIp: string;
  localIp: string;
  localPort: number;
  helo: string;
  declaredSize?: number;
  envId?: string;
  ret?: 'FULL' | 'HDRS';
  rcpt: Map<string, JobRecipient>;
  /** In TLS the client presented a certificate that verified against tls.clientCa. */
  verifiedCertificate?: boolean;
}

/** A session's state when it opens. */
export function newSessionState(session: SMTPServerSession): SessionState {
  return {
    clientIp: session.remoteAddress,
    localIp: session.localAddress,
    localPort: session.localPort,
    helo: session.hostNameAppearsAs ?? '',
    rcpt: new Map(),
  };
}

/** Which clients a virtual server trusts: relay.allow, AUTH, a verified certificate, and siteTrust. */
export class RelayTrust {
  private readonly relayList;
  private readonly relayByIp = new Map<string, boolean>();

  constructor(private readonly vs: VirtualServer) {
    this.relayList = buildIpList(vs.relay.allow);
  }

  /** How the session's client identified itself: relay.allow, AUTH, a verified certificate. */
  client(session: SMTPServerSession, state: SessionState | undefined): SessionClient {
    return {
      relayAllowed: this.relayAllowed(session.remoteAddress),
      authUser: Boolean(session.user),
      verifiedCertificate: state?.verifiedCertificate === true,
    };
  }

  /** A client whose site headers and link state are believed, by the virtual server's siteTrust. */
  trustsSite(session: SMTPServerSession, state: SessionState | undefined): boolean {
    return trustsSite(this.vs.siteTrust, this.client(session, state));
  }

  /** relay.allow for a client IP, remembered for the last 1024 IPs (BlockList.check is not cheap). */
  private relayAllowed(ip: string): boolean {
    let ok = this.relayByIp.get(ip);
    if (ok === undefined) {
      ok = ipInList(this.relayList, ip);
      if (this.relayByIp.size >= 1024) this.relayByIp.clear();
      this.relayByIp.set(ip, ok);
    }
    return ok;
  }
}
