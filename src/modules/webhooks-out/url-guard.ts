// The SSRF guard for merchant webhook URLs. A merchant chooses where we send HTTP requests, so a URL
// must not reach our own network: loopback, private, link-local (the 169.254.169.254 metadata
// service), carrier-grade NAT, unique-local, multicast, reserved and translation ranges are refused.
// The check runs when an endpoint is saved and again before every send, on a fresh DNS answer, and
// the send connects to the very address that was checked (transport.ts), so a name that is public at
// creation and rebinds to 127.0.0.1 later is caught. ALLOW_PRIVATE_WEBHOOK_URLS lifts the address
// rule for development and tests; live mode always requires https.
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export type UnsafeUrlReason =
  | 'invalid_url'
  | 'unsupported_scheme'
  | 'https_required'
  | 'credentials_in_url'
  | 'unresolvable'
  | 'private_address';

export class UnsafeWebhookUrlError extends Error {
  constructor(
    readonly reason: UnsafeUrlReason,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafeWebhookUrlError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has; replaceable so tests can play a rebinding DNS. */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface UrlGuardOptions {
  livemode: boolean;
  allowPrivate: boolean;
  lookup?: HostLookup;
}

export interface CheckedTarget {
  url: URL;
  /** The address to connect to: the one that passed the check. */
  address: string;
  family: 4 | 6;
}

const systemLookup: HostLookup = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/**
 * Only ordinary public unicast is reachable. An IPv4-mapped IPv6 address is judged as the IPv4 one it
 * carries; other translation forms (NAT64, 6to4, Teredo) are refused outright, since they can embed
 * any IPv4 address.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

function parse(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new UnsafeWebhookUrlError('invalid_url', 'Invalid URL: must be an absolute http or https URL.');
  }
}

/** `[::1]` as URL.hostname gives it, without the brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Checks a webhook URL and resolves the address to pin; throws UnsafeWebhookUrlError. */
export async function checkWebhookUrl(raw: string, options: UrlGuardOptions): Promise<CheckedTarget> {
  const url = parse(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnsafeWebhookUrlError('unsupported_scheme', 'Invalid URL: only http and https are supported.');
  }
  if (options.livemode && url.protocol !== 'https:') {
    throw new UnsafeWebhookUrlError(
      'https_required',
      'Invalid URL: live mode webhook endpoints must use https.',
    );
  }
  if (url.username || url.password) {
    throw new UnsafeWebhookUrlError(
      'credentials_in_url',
      'Invalid URL: credentials in the URL are not allowed; sign with the endpoint secret instead.',
    );
  }
  const host = bareHost(url);
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.lookup ?? systemLookup)(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) {
      throw new UnsafeWebhookUrlError('unresolvable', `Invalid URL: the host ${host} could not be resolved.`);
    }
  }
  // Every answer must be public: a name with one public and one private address could be steered.
  if (!options.allowPrivate && addresses.some((answer) => !isPublicAddress(answer.address))) {
    throw new UnsafeWebhookUrlError(
      'private_address',
      'Invalid URL: it resolves to a loopback, private, link-local or otherwise internal address.',
    );
  }
  const [first] = addresses as [ResolvedAddress];
  return { url, address: first.address, family: first.family };
}
