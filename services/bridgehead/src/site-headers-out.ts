import type { Connector } from '@mailbus/config';
import { removeHeaderFields, SITE_HEADERS, traceContextHeader } from '@mailbus/routing';
import { injectContext } from '@mailbus/telemetry';

/**
 * When routing groups are sites: the headers a message leaves with, after its Received line. Over a
 * connector that joins routing groups (to another site): the trace context of
 * the active span (the SMTP send) with this site and queue id, so the next
 * site continues the trace and `mailbus track` can follow it. Over any other
 * connector (out of the organisation): without the site headers
 * (X-Mailbus-Routing-Groups). To the mailbox hosts (no connector): as stored.
 * Without sites mailbus neither writes nor reads these headers: the caller sends the body as stored.
 */
export function outgoingBody(
  connector: Connector | undefined,
  site: { group: string; queueId: string },
  received: Buffer,
  body: Buffer,
): Buffer {
  if (!connector) return Buffer.concat([received, body]);
  if (connector.connectedRoutingGroups.length === 0)
    return Buffer.concat([received, removeHeaderFields(body, SITE_HEADERS)]);
  const { traceparent, tracestate } = injectContext();
  const header = traceContextHeader({
    ...(traceparent ? { traceparent } : {}),
    ...(tracestate ? { tracestate } : {}),
    site: site.group,
    queueId: site.queueId,
  });
  return Buffer.concat([received, Buffer.from(header, 'latin1'), body]);
}
