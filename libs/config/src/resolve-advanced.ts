import { parseSchedule } from '@mailbus/schedule';
import type { ConfigError } from './config-error.js';
import type { Config, VirtualServer } from './effective-config.js';
import type { ConnectorConfig } from './schema.js';
import { parseSmartHost } from './smart-host.js';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);

/** The seed's rules, quoted in the errors so the operator sees why. */
export const HELO_RULE =
  '"If you use HELO commands, you cannot use TURN commands or ETRN commands" (seed 002)';
export const TURN_RULE =
  '"if you use the TURN command, you must use authentication" (seed 002): set outboundSecurity.auth to basic or ntlm';

type Report = (path: string, reason: string) => void;

/**
 * Checks the Advanced tab (`advanced`), `delivery.triggerAccounts` and the
 * outbound credentials of one connector (DESIGN 8), reporting through `err`.
 */
export function checkAdvanced(
  c: ConnectorConfig,
  at: (p: string) => string,
  virtualServers: readonly VirtualServer[],
  err: Report,
): void {
  const a = c.advanced;
  if (a.request !== 'none' && c.heloInsteadOfEhlo) {
    err(at('advanced.request'), `request: ${a.request} with heloInsteadOfEhlo: true: ${HELO_RULE}`);
  }
  if (a.request === 'turn' && c.outboundSecurity.auth === 'none') {
    err(at('advanced.request'), `request: turn without outbound authentication: ${TURN_RULE}`);
  }
  if (a.request === 'etrn' && a.domains.length === 0) {
    err(at('advanced.domains'), 'request: etrn needs the domains to issue ETRN for ("Issue ETRN")');
  }
  a.domains.forEach((d, j) => {
    if (!DOMAIN.test(d.replace(/\.$/, ''))) {
      err(at(`advanced.domains[${j}]`), `"${d}" is not a domain name (no wildcards here)`);
    }
  });
  if (a.server !== undefined) {
    const r = parseSmartHost(a.server);
    if (!r.ok) err(at('advanced.server'), r.reason);
    if (a.request === 'none') {
      err(at('advanced.server'), 'a different server to request from needs request: etrn or turn');
    }
    if (a.schedule === undefined) {
      err(
        at('advanced.schedule'),
        'advanced.server needs a schedule: its connection time (e.g. "every 2h")',
      );
    }
  } else if (a.schedule !== undefined) {
    err(at('advanced.schedule'), 'a connection time needs advanced.server (the server to call)');
  }
  if (a.schedule !== undefined) {
    const s = parseSchedule(a.schedule, c.delivery.timezone);
    if (!s.ok) err(at('advanced.schedule'), s.reason);
  }

  const d = c.delivery;
  if (d.triggerAccounts.length > 0) {
    if (!d.remoteTriggered) {
      err(
        at('delivery.triggerAccounts'),
        'trigger accounts collect held mail: set delivery.remoteTriggered: true ("Queue mail for remote triggered delivery")',
      );
    }
    if (c.heloInsteadOfEhlo) {
      err(
        at('delivery.triggerAccounts'),
        `trigger accounts with heloInsteadOfEhlo: true: ${HELO_RULE}`,
      );
    }
    if (!virtualServers.some((v) => v.auth !== undefined)) {
      err(
        at('delivery.triggerAccounts'),
        'no virtual server has auth.usersFile: ATRN and TURN are accepted only after AUTH',
      );
    }
  }

  const sec = c.outboundSecurity;
  if (sec.auth !== 'none') {
    if (!sec.username) err(at('outboundSecurity.username'), `auth: ${sec.auth} needs a username`);
    if (!sec.passwordEnv && !sec.passwordFile) {
      err(
        at('outboundSecurity'),
        `auth: ${sec.auth} needs passwordEnv or passwordFile (passwords are never written in mailbus.yaml)`,
      );
    }
  }
  if ((sec.clientCert === undefined) !== (sec.clientKey === undefined)) {
    err(
      at(
        sec.clientCert === undefined ? 'outboundSecurity.clientCert' : 'outboundSecurity.clientKey',
      ),
      'clientCert and clientKey go together (the certificate and its private key)',
    );
  }
  if (sec.clientCert !== undefined && sec.tls === 'none') {
    err(
      at('outboundSecurity.clientCert'),
      'a client certificate is presented in TLS: it needs tls: required or opportunistic, not none',
    );
  }
}

/**
 * Every `delivery.triggerAccounts` entry must be a user of some virtual
 * server's `auth.usersFile` (the accounts that can AUTH and then ATRN/TURN).
 * `userNames` reads a users file (I/O, injected by main.ts).
 */
export function checkTriggerAccounts(
  config: Config,
  userNames: (usersFile: string) => readonly string[] | undefined,
): ConfigError[] {
  const errors: ConfigError[] = [];
  const files = [
    ...new Set(config.virtualServers.flatMap((v) => (v.auth ? [v.auth.usersFile] : []))),
  ];
  const known = new Set<string>();
  const unreadable: string[] = [];
  for (const f of files) {
    const names = userNames(f);
    if (names) for (const n of names) known.add(n);
    else unreadable.push(f);
  }
  config.connectors.forEach((c, i) =>
    c.delivery.triggerAccounts.forEach((a, j) => {
      if (known.has(a)) return;
      const why = unreadable.length > 0 ? ` (cannot read ${unreadable.join(', ')})` : '';
      errors.push({
        path: `connectors[${i}].delivery.triggerAccounts[${j}]`,
        reason: `"${a}" is not a user of any virtual server's auth.usersFile (${files.join(', ') || 'none'})${why}: it could never AUTH to collect the held mail`,
      });
    }),
  );
  return errors;
}
