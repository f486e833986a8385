import { readConfigFile, type Config, type Connector } from '@mailbus/config';
import type { OutboundSecurity } from '@mailbus/delivery';

/** What a connector's Outbound Security needs from outside mailbus.yaml, read once at start. */
export interface ConnectorSecret {
  /** From passwordEnv or passwordFile (auth basic or ntlm). */
  pass?: string;
  /** The PEM client certificate and key (clientCert, clientKey). */
  clientCertificate?: { cert: string; key: string };
}

/**
 * Each connector's password (passwordEnv, else passwordFile) and client
 * certificate files, by connector name; an unreadable certificate or key is
 * a ConfigFileError naming its key.
 */
export function connectorSecrets(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  readFile: ((path: string) => string) | undefined,
): Map<string, ConnectorSecret> {
  const secrets = new Map<string, ConnectorSecret>();
  config.connectors.forEach((c, i) => {
    const s = c.outboundSecurity;
    const at = `connectors[${i}].outboundSecurity`;
    const secret: ConnectorSecret = {};
    if (s.auth !== 'none') {
      if (s.passwordEnv && env[s.passwordEnv] !== undefined) secret.pass = env[s.passwordEnv];
      else if (s.passwordFile && readFile) secret.pass = readFile(s.passwordFile).trim();
    }
    if (s.clientCert && s.clientKey && readFile)
      secret.clientCertificate = {
        cert: readConfigFile(`${at}.clientCert`, s.clientCert, readFile),
        key: readConfigFile(`${at}.clientKey`, s.clientKey, readFile),
      };
    secrets.set(c.name, secret);
  });
  return secrets;
}

/**
 * The connector's Outbound Security as the SMTP client uses it: TLS mode,
 * certificate checks, with `auth: basic` or `ntlm` the username and the
 * password resolved from passwordEnv/passwordFile (never from mailbus.yaml),
 * and the client certificate it presents in TLS. Local delivery (no
 * connector): opportunistic TLS, no authentication.
 */
export function outboundSecurity(
  connector: Connector | undefined,
  secret: ConnectorSecret | undefined,
): OutboundSecurity {
  const sec = connector?.outboundSecurity;
  return {
    tls: sec?.tls ?? 'opportunistic',
    verifyCertificates: sec?.verifyCertificates ?? false,
    ...(sec && sec.auth !== 'none' && sec.username
      ? { auth: { method: sec.auth, user: sec.username, pass: secret?.pass ?? '' } }
      : {}),
    ...(secret?.clientCertificate ? { clientCertificate: secret.clientCertificate } : {}),
  };
}
