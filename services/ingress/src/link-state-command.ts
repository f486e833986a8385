import type { SMTPServerSession } from 'smtp-server';
import type { Config } from '@mailbus/config';
import type { MailQueue } from '@mailbus/queue';
import { currentGroup, hasSites, newerReports, parseLinkReport } from '@mailbus/routing';
import { reply, type SmtpReply } from '@mailbus/smtp';

/** Answers `X-LINK2STATE <group> <at> <down,...|->`. */
export type LinkStateHandler = (arg: string, session: SMTPServerSession) => Promise<SmtpReply>;

export interface LinkStateDeps {
  config: Config;
  virtualServer: string;
  queue: Pick<MailQueue, 'siteLinks'>;
  /** A client this virtual server's siteTrust believes (site-trust.ts): the only one heard. */
  trusted: (session: SMTPServerSession) => boolean;
}

/**
 * X-LINK2STATE, as Exchange 2003 passed link state between routing groups
 * over their connectors' SMTP sessions: another site's bridgehead tells this
 * site which of a group's connectors are down, as of when. Kept in this
 * site's Redis when newer than what is known; only from a trusted client, and
 * only when routing groups are sites. undefined when they are not (502).
 */
export function createLinkStateHandler(deps: LinkStateDeps): LinkStateHandler | undefined {
  if (!hasSites(deps.config)) return undefined;
  const here = currentGroup(deps.config, deps.virtualServer);
  const groups = new Set(deps.config.routingGroups.map((g) => g.name));
  return async (arg, session) => {
    if (!deps.trusted(session))
      return reply(550, '5.7.1', 'Link state only from a trusted bridgehead (siteTrust)');
    const r = parseLinkReport(arg);
    if (!r)
      return reply(501, '5.5.4', 'Syntax: X-LINK2STATE <routing group> <ms> <down connectors|->');
    if (!groups.has(r.group)) return reply(550, '5.1.0', `Unknown routing group ${r.group}`);
    if (r.group === here) return reply(250, '2.0.0', `Routing group ${here} is this one: ignored`);
    const fresh = newerReports(await deps.queue.siteLinks.all(), [r]);
    await deps.queue.siteLinks.save(fresh);
    return reply(
      250,
      '2.0.0',
      fresh.length > 0 ? `Link state of ${r.group} updated` : 'Already known',
    );
  };
}
