import type { Connector } from '@mailbus/config';
import type { OutboundSecurity } from '@mailbus/delivery';

/**
 * The connector's Outbound Security as the SMTP client uses it: TLS mode,
 * certificate checks, and with `auth: basic` or `ntlm` the username and the
 * password resolved from passwordEnv/passwordFile (never from mailbus.yaml).
 * Local delivery (no connector): opportunistic TLS, no authentication.
 */
export function outboundSecurity(
  connector: Connector | undefined,
  pass: string | undefined,
): OutboundSecurity {
  const sec = connector?.outboundSecurity;
  return {
    tls: sec?.tls ?? 'opportunistic',
    verifyCertificates: sec?.verifyCertificates ?? false,
    ...(sec && sec.auth !== 'none' && sec.username
      ? { auth: { method: sec.auth, user: sec.username, pass: pass ?? '' } }
      : {}),
  };
}
