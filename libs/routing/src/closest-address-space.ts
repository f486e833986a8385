import type { Connector } from '@mailbus/config';
import { addressSpaceSpecificity } from './address-space-specificity.js';

/** A connector's best address space for one domain. */
export interface AddressSpaceMatch {
  /** The address space pattern as configured (`*.contoso.com`). */
  space: string;
  cost: number;
  /** See addressSpaceSpecificity: larger is closer. */
  specificity: number;
}

/**
 * The connector's closest matching address space for the domain (cheapest
 * among equally close ones), or undefined when none matches.
 */
export function closestAddressSpace(
  connector: Pick<Connector, 'addressSpaces'>,
  domain: string,
): AddressSpaceMatch | undefined {
  let best: AddressSpaceMatch | undefined;
  for (const a of connector.addressSpaces) {
    const specificity = addressSpaceSpecificity(a.domain, domain);
    if (specificity === undefined) continue;
    if (
      best === undefined ||
      specificity > best.specificity ||
      (specificity === best.specificity && a.cost < best.cost)
    ) {
      best = { space: a.domain, cost: a.cost, specificity };
    }
  }
  return best;
}
