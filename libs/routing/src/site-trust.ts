/** Whose site headers and X-LINK2STATE a virtual server believes (its `siteTrust`). */
export type SiteTrust = 'relay' | 'authenticated';

/** How the SMTP client of a session identified itself to the virtual server. */
export interface SessionClient {
  /** Its IP is in the virtual server's relay.allow. */
  relayAllowed: boolean;
  /** It authenticated with AUTH. */
  authUser: boolean;
  /** In TLS it presented a client certificate that verified against the virtual server's tls.clientCa. */
  verifiedCertificate: boolean;
}

/**
 * Authenticated: by AUTH or by a client certificate that verified. A
 * certificate that did not verify (or none) is no authentication at all.
 * This is what relay rules (allowAuthenticated) and site trust call
 * authenticated.
 */
export function clientAuthenticated(c: SessionClient): boolean {
  return c.authUser || c.verifiedCertificate;
}

/**
 * Whether the receiving site believes what a client says about a message's
 * route (X-Mailbus-Routing-Groups, X-Mailbus-Trace-Context) and the link
 * state it reports (X-LINK2STATE). `relay` (the default, DESIGN 7): any
 * client that may relay here, by relay.allow or authenticated.
 * `authenticated`: only the organisation's bridgeheads that authenticated,
 * whatever relay.allow says.
 */
export function trustsSite(siteTrust: SiteTrust, c: SessionClient): boolean {
  const authenticated = clientAuthenticated(c);
  return siteTrust === 'authenticated' ? authenticated : c.relayAllowed || authenticated;
}
