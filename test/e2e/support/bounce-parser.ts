import { spawnSync } from 'node:child_process';

/** What Debian's Mail::DeliveryStatus::BounceParser (perl) reads off a DSN. */
export interface ParsedBounce {
  isBounce: boolean;
  /** The parser's classification, e.g. "delivery-status relayed" for a success notice. */
  type: string;
  reports: Array<{
    email: string;
    status: string;
    stdReason: string;
    reason: string;
    diagnostic: string;
    action: string;
    originalRecipient: string;
  }>;
}

const SCRIPT = `
use strict; use warnings;
use Mail::DeliveryStatus::BounceParser;
use JSON::PP;
local $/; my $raw = <STDIN>;
my $b = eval { Mail::DeliveryStatus::BounceParser->new($raw) };
die "not parsed: $@" unless $b;
my @r = map { {
  email => $_->get('email') // '', status => $_->get('Status') // '',
  stdReason => $_->get('std_reason') // '', reason => $_->get('reason') // '',
  diagnostic => $_->get('Diagnostic-Code') // '', action => $_->get('Action') // '',
  originalRecipient => $_->get('Original-Recipient') // '',
} } $b->reports;
print encode_json({ isBounce => $b->is_bounce ? JSON::PP::true : JSON::PP::false, type => $b->{type} // '', reports => \\@r });
`;

export const hasBounceParser =
  spawnSync('perl', ['-MMail::DeliveryStatus::BounceParser', '-e', '1']).status === 0;

/** Runs the real bounce parser on a raw DSN. */
export function parseBounce(raw: Buffer): ParsedBounce {
  const r = spawnSync('perl', ['-e', SCRIPT], { input: raw, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`BounceParser failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ParsedBounce;
}
