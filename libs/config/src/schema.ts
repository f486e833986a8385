import { z } from 'zod';
import { advancedSchema } from './advanced-schema.js';
import { parseDuration } from './duration.js';

/** Exchange 2003's retry defaults (ms): also what local delivery (no connector) follows. */
export const RETRY_DEFAULTS = {
  intervals: [900_000, 1_800_000, 3_600_000, 14_400_000],
  expireAfter: 172_800_000,
  delayNotifyAfter: 43_200_000,
} as const;

/** A duration such as "15m", "2d", "12h", parsed to milliseconds. */
const duration = (what: string) =>
  z
    .string()
    .describe(what)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${s}" is not a duration (use e.g. 30s, 15m, 12h, 2d)`,
          params: { code: 'MAILBUS_ERR_CONFIG_DURATION' },
        });
        return z.NEVER;
      }
      return ms;
    });

const listen = z
  .string()
  .regex(/^(?:\[[^\]]+\]|[^:]*):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:25 or [::]:25');

const domainName = z
  .string()
  .min(1)
  .transform((s) => s.trim().toLowerCase());

const cidrList = z
  .array(z.string().regex(/^[0-9a-fA-F.:]+(?:\/\d{1,3})?$/, 'must be an IP address or CIDR range'))
  .describe('IP addresses or CIDR ranges (IPv4 and IPv6)');

export const redisSchema = z
  .object({
    url: z
      .string()
      .optional()
      .describe(
        'redis://host:port/db; env MAILBUS_REDIS_URL overrides; absent = embedded redis-server for `mailbus start`',
      ),
    cluster: z
      .object({ nodes: z.array(z.string()).min(1).describe('seed nodes, host:port') })
      .strict()
      .optional()
      .describe('Redis Cluster seed nodes'),
    sentinel: z
      .object({
        name: z.string().describe('monitored primary name'),
        sentinels: z.array(z.string()).min(1).describe('sentinel addresses, host:port'),
      })
      .strict()
      .optional()
      .describe('Redis Sentinel'),
    prefix: z.string().default('mailbus').describe('key prefix for every mailbus key'),
    durability: z
      .enum(['fsync', 'replicated', 'memory'])
      .default('fsync')
      .describe(
        'when ingress may answer 250: fsync (AOF appendfsync always / WAITAOF), replicated (WAIT 1), memory (unsafe)',
      ),
    strict: z
      .boolean()
      .default(false)
      .describe('refuse to start (not just warn) when Redis persistence is weaker than durability'),
    commandTimeout: duration(
      'ingress gives up on a Redis write after this and answers 451 4.3.0',
    ).default(3000),
  })
  .strict();

export const protocolLogFieldNames = [
  'date',
  'time',
  'c-ip',
  'cs-username',
  's-sitename',
  's-computername',
  's-ip',
  's-port',
  'cs-method',
  'cs-uri-stem',
  'cs-uri-query',
  'sc-status',
  'sc-win32-status',
  'sc-bytes',
  'cs-bytes',
  'time-taken',
  'cs-version',
  'cs-host',
  'cs(User-Agent)',
  'cs(Cookie)',
  'cs(Referer)',
] as const;
export type ProtocolLogField = (typeof protocolLogFieldNames)[number];
export const defaultProtocolLogFields: readonly ProtocolLogField[] = [
  'date',
  'time',
  'c-ip',
  'cs-username',
  's-sitename',
  's-computername',
  's-ip',
  's-port',
  'cs-method',
  'cs-uri-query',
  'sc-status',
  'sc-bytes',
  'cs-bytes',
  'time-taken',
];

export const protocolLogSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('write W3C Extended protocol logs for this virtual server'),
    directory: z
      .string()
      .default('logs')
      .describe('root directory; files go to <directory>/<virtual server>/'),
    period: z
      .enum(['hourly', 'daily', 'weekly', 'monthly', 'unlimited', 'size'])
      .default('daily')
      .describe('rollover period; `size` rolls at maxSizeMB'),
    maxSizeMB: z
      .number()
      .positive()
      .optional()
      .describe('with period: size, roll over at this size (extendN.log)'),
    localTimeForNaming: z
      .boolean()
      .default(false)
      .describe('name and roll files by local time instead of UTC'),
    fields: z
      .array(z.enum(protocolLogFieldNames))
      .min(1)
      .default([...defaultProtocolLogFields])
      .describe('W3C fields, in order'),
  })
  .strict();

export const virtualServerSchema = z
  .object({
    name: z.string().min(1).describe('virtual server name; many nodes may run the same one'),
    routingGroup: z.string().optional().describe('routing group; default the first one'),
    listen: listen.default('0.0.0.0:25').describe('SMTP listen address'),
    fqdn: z.string().min(1).describe('name in the banner, EHLO and Received headers'),
    maxMessageSizeKB: z
      .number()
      .int()
      .positive()
      .default(10240)
      .describe('SIZE advertised and enforced (552 5.3.4)'),
    maxRecipientsPerMessage: z
      .number()
      .int()
      .positive()
      .default(64000)
      .describe('RCPT limit (452 4.5.3)'),
    maxHeaderSizeKB: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('header section limit (552 5.3.4)'),
    maxHops: z
      .number()
      .int()
      .positive()
      .default(30)
      .describe('Received headers allowed before 554 5.4.6'),
    relay: z
      .object({
        allow: cidrList.default([]).describe('clients that may relay to any domain'),
        allowAuthenticated: z.boolean().default(true).describe('authenticated clients may relay'),
        etrn: cidrList.default([]).describe('clients that may send ETRN'),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        usersFile: z
          .string()
          .describe('file of user:hash lines (scrypt or bcrypt), see `mailbus user add`'),
        allowPlaintext: z
          .boolean()
          .default(false)
          .describe(
            'offer and accept AUTH without TLS (passwords in clear); off: AUTH only after STARTTLS',
          ),
      })
      .strict()
      .optional(),
    siteTrust: z
      .enum(['relay', 'authenticated'])
      .default('relay')
      .describe(
        'whose site headers and X-LINK2STATE are believed: relay (a client in relay.allow or authenticated) | authenticated (AUTH or a verified client certificate only)',
      ),
    tls: z
      .object({
        cert: z.string().describe('PEM certificate file'),
        key: z.string().describe('PEM private key file'),
        implicit: z
          .boolean()
          .default(false)
          .describe('TLS from the first byte (port 465 style) instead of STARTTLS'),
        clientCa: z
          .string()
          .optional()
          .describe(
            'PEM CA file: ask every TLS client for a certificate; one that verifies against it is authenticated (relay, siteTrust)',
          ),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        maxConnections: z
          .number()
          .int()
          .positive()
          .default(500)
          .describe('concurrent sessions in total (421 4.7.0)'),
        maxConnectionsPerIp: z
          .number()
          .int()
          .positive()
          .default(50)
          .describe('concurrent sessions per client IP (421 4.7.0)'),
        socketTimeout: duration('idle session timeout (421 4.4.2)').default(300_000),
        drainTimeout: duration(
          'on SIGTERM, how long open sessions may finish their transaction before 421 4.3.2',
        ).default(30_000),
        greetingDelay: duration(
          'pause before the 220 greeting; a client that talks first gets 421 (early-talker check)',
        ).default(0),
      })
      .strict()
      .prefault({}),
    outbound: z
      .object({
        port: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .default(25)
          .describe('remote port when a smart host names none'),
        dnsServers: z
          .array(z.string())
          .default([])
          .describe('DNS servers for MX lookups (ip or ip:port); empty = system'),
        smartHost: z
          .string()
          .nullable()
          .default(null)
          .describe('smart host connectors inherit when they set none'),
      })
      .strict()
      .prefault({}),
    protocolLog: protocolLogSchema.prefault({}),
  })
  .strict();

export const addressSpaceSchema = z
  .object({
    type: z.literal('SMTP').default('SMTP').describe('address type; SMTP only'),
    domain: domainName.describe('exact domain, *.domain (subdomains), or *'),
    cost: z.number().int().default(1).describe('1-100; lower is tried first'),
  })
  .strict();

const scheduleSpec = z
  .union([z.string(), z.array(z.string()).min(1)])
  .describe('never | always | "every 2h" | ["Mon-Fri 18:00-23:45", …]');

export const connectedRoutingGroupSchema = z
  .object({
    name: z.string().min(1).describe('a routing group in routingGroups'),
    cost: z.number().int().default(1).describe('1-100; a path costs the sum of its connectors'),
  })
  .strict();

export const routingGroupSchema = z.union([
  z.string().min(1).describe('routing group name (old form: the top-level redis)'),
  z
    .object({
      name: z.string().min(1).describe('routing group (site) name'),
      redis: redisSchema.optional().describe("this site's own bus; absent = the top-level redis"),
    })
    .strict(),
]);

export const connectorSchema = z
  .object({
    name: z.string().min(1).describe('connector name (queue name)'),
    smartHosts: z
      .array(z.string())
      .optional()
      .describe('smart hosts tried in order: [IP], FQDN, optional :port'),
    dns: z.boolean().default(false).describe('route by DNS MX instead of smart hosts'),
    bridgeheads: z
      .array(z.string())
      .min(1)
      .describe('virtual servers whose nodes deliver for this connector'),
    scope: z.enum(['organization', 'routingGroup']).default('organization'),
    addressSpaces: z
      .array(addressSpaceSchema)
      .default([])
      .describe('domains it delivers; optional on a connector with connectedRoutingGroups'),
    connectedRoutingGroups: z
      .array(connectedRoutingGroupSchema)
      .default([])
      .describe('routing groups (sites) this connector joins its own group to, each with a cost'),
    allowRelay: z
      .boolean()
      .default(false)
      .describe('accept relay to these address spaces from anyone'),
    deliveryRestrictions: z
      .object({
        reject: z.array(z.string()).optional().describe('senders refused (addresses or @domain)'),
        accept: z
          .array(z.string())
          .optional()
          .describe('only these senders (addresses or @domain)'),
      })
      .strict()
      .prefault({}),
    contentRestrictions: z
      .object({
        priorities: z.array(z.enum(['high', 'normal', 'low'])).default(['high', 'normal', 'low']),
        types: z.array(z.enum(['system', 'nonSystem'])).default(['system', 'nonSystem']),
        maxSizeKB: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('default: the bridgehead virtual server limit'),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        schedule: scheduleSpec.default('always'),
        timezone: z.string().default('UTC').describe('IANA time zone of the schedules'),
        oversize: z
          .object({ thresholdKB: z.number().int().positive(), schedule: scheduleSpec })
          .strict()
          .optional(),
        remoteTriggered: z.boolean().default(false).describe('hold mail until ETRN'),
        triggerAccounts: z
          .array(z.string().min(1))
          .default([])
          .describe('users (auth.usersFile) allowed to collect the held mail with ATRN / TURN'),
      })
      .strict()
      .prefault({}),
    outboundSecurity: z
      .object({
        tls: z.enum(['none', 'opportunistic', 'required']).default('opportunistic'),
        verifyCertificates: z
          .boolean()
          .default(false)
          .describe('verify the remote certificate chain and name'),
        auth: z
          .enum(['none', 'basic', 'ntlm'])
          .default('none')
          .describe('none | basic (AUTH PLAIN/LOGIN) | ntlm (Integrated Windows Authentication)'),
        username: z.string().optional(),
        passwordEnv: z.string().optional().describe('environment variable holding the password'),
        passwordFile: z.string().optional().describe('file holding the password'),
        clientCert: z
          .string()
          .optional()
          .describe(
            'PEM client certificate file presented in TLS (with clientKey): how a bridgehead authenticates to another site',
          ),
        clientKey: z.string().optional().describe('PEM private key file of clientCert'),
      })
      .strict()
      .prefault({}),
    heloInsteadOfEhlo: z.boolean().default(false),
    advanced: advancedSchema.prefault({}),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('default: the bridgehead outbound.port'),
    dnsServers: z
      .array(z.string())
      .optional()
      .describe('default: the bridgehead outbound.dnsServers'),
    retry: z
      .object({
        intervals: z
          .array(duration('retry interval'))
          .min(1)
          .default([...RETRY_DEFAULTS.intervals]),
        expireAfter: duration('give up and send DSN 5.4.7 after').default(
          RETRY_DEFAULTS.expireAfter,
        ),
        delayNotifyAfter: duration('send one delay DSN after').default(
          RETRY_DEFAULTS.delayNotifyAfter,
        ),
      })
      .strict()
      .prefault({}),
    linkState: z
      .object({
        failuresToMarkDown: z.number().int().positive().default(3),
        downFor: duration('first down interval, doubling up to maxDownFor').default(60_000),
        maxDownFor: duration('longest down interval').default(3_600_000),
      })
      .strict()
      .prefault({}),
    partitions: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('split the queue over N Redis Cluster slots'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe('deliveries in flight per bridgehead process'),
  })
  .strict();

export const recipientPolicySchema = z
  .object({
    domain: domainName.describe('inbound domain, accepted from anyone'),
    mailboxHosts: z
      .array(z.string())
      .min(1)
      .describe('hosts that receive mail for it ([IP] or FQDN, optional :port)'),
    routingGroup: z
      .string()
      .optional()
      .describe('routing group (site) where its mailboxes live; absent = every group delivers'),
    recipientValidation: z
      .enum(['verify', 'list', 'none'])
      .default('verify')
      .describe(
        'checked at RCPT: verify = SMTP callout to a mailbox host (cached in Redis); list = validRecipientsFile; none = accept every local part (backscatter risk)',
      ),
    validRecipientsFile: z
      .string()
      .optional()
      .describe(
        'with list: file of addresses and wildcards (*@domain, sales-*@domain), one a line',
      ),
    verify: z
      .object({
        positiveTtl: duration("how long a mailbox host's yes is cached").default(86_400_000),
        negativeTtl: duration("how long a mailbox host's no (5xx) is cached").default(3_600_000),
        timeout: duration('callout deadline; past it the client gets 450 4.1.1').default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const configSchema = z
  .object({
    organization: z
      .string()
      .default('mailbus')
      .describe('organisation name, in DSNs and Reporting-MTA'),
    redis: redisSchema.prefault({}),
    admin: z
      .object({
        listen: listen.default('127.0.0.1:8025'),
        tokenEnv: z.string().optional().describe('env var holding the Bearer token'),
        basicAuth: z.object({ username: z.string(), passwordEnv: z.string() }).strict().optional(),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: logLevel.default('info'),
        categories: z
          .object({
            smtp: logLevel.optional(),
            routing: logLevel.optional(),
            queue: logLevel.optional(),
            delivery: logLevel.optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    tracking: z
      .object({
        retention: duration('how long message tracking events are kept').default(604_800_000),
      })
      .strict()
      .prefault({}),
    recipientPolicies: z.array(recipientPolicySchema).default([]),
    routingGroups: z
      .array(routingGroupSchema)
      .min(1)
      .default(['first'])
      .describe('routing groups (sites): names, or { name, redis }'),
    virtualServers: z.array(virtualServerSchema).min(1),
    connectors: z.array(connectorSchema).default([]),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type VirtualServerConfig = z.output<typeof virtualServerSchema>;
export type ConnectorConfig = z.output<typeof connectorSchema>;
export type AddressSpace = z.output<typeof addressSpaceSchema>;
export type RecipientPolicy = z.output<typeof recipientPolicySchema>;
export type RedisConfig = z.output<typeof redisSchema>;
export type ConnectedRoutingGroup = z.output<typeof connectedRoutingGroupSchema>;
export type ProtocolLogConfig = z.output<typeof protocolLogSchema>;
export type ScheduleSpec = string | string[];
