// Address ranges, for two decisions: which client addresses an API key accepts
// (its allowed source ranges) and which addresses a webhook may be delivered to
// (public unicast only, unless the operator allows more). Parsing and range
// classification come from ipaddr.js; IPv4-mapped and IPv4-compatible IPv6
// forms are judged as the IPv4 address they carry.
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/** The address as judged: an IPv6 form that carries an IPv4 address becomes that IPv4 address. */
function normalised(address: string): Address | null {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  // A zone (fe80::1%eth0) only says which interface: the address is what is judged.
  const withoutZone = bare.split("%")[0]!;
  if (!ipaddr.isValid(withoutZone)) return null;
  const parsed = ipaddr.parse(withoutZone);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
    // IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks).
    const parts = v6.parts;
    if (parts.slice(0, 6).every((part) => part === 0) && (parts[6] !== 0 || parts[7]! > 1)) {
      return ipaddr.IPv4.parse(`${parts[6]! >> 8}.${parts[6]! & 0xff}.${parts[7]! >> 8}.${parts[7]! & 0xff}`);
    }
  }
  return parsed;
}

/** Parses "203.0.113.0/24", "2001:db8::/32" or a single address; null when it is not one. */
export function parseCidr(text: string): Cidr | null {
  const value = text.trim();
  try {
    if (value.includes("/")) {
      const [address, bits] = ipaddr.parseCIDR(value);
      return [address, bits];
    }
    if (!ipaddr.isValid(value)) return null;
    const address = ipaddr.parse(value);
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch {
    return null;
  }
}

function inside(address: Address, [network, bits]: Cidr): boolean {
  if (address.kind() !== network.kind()) return false;
  return address.match(network as never, bits);
}

/** Whether `address` lies in any of `ranges` (CIDR strings; unparsable ones match nothing). */
export function addressInRanges(address: string, ranges: readonly string[]): boolean {
  const parsed = normalised(address);
  if (!parsed) return false;
  for (const range of ranges) {
    const cidr = parseCidr(range);
    if (cidr && inside(parsed, cidr)) return true;
  }
  return false;
}

/**
 * Why `address` may not receive webhooks, or null when it is public unicast.
 * Loopback, private, link-local, carrier-grade NAT, unspecified, multicast,
 * broadcast, reserved and documentation ranges, and IPv6 forms that translate
 * to IPv4 (NAT64, 6to4, Teredo) are all refused: only what ipaddr.js calls
 * plain `unicast` passes.
 */
export function nonPublicReason(address: string): string | null {
  const parsed = normalised(address);
  if (!parsed) return "not an IP address";
  const range = parsed.range();
  return range === "unicast" ? null : range;
}

/** The operator's allowance for webhook targets that are not public. */
export type TargetAllowance = { allowPrivate: boolean; allowedRanges: readonly string[] };

/** Null when a webhook may be delivered to `address`; otherwise why not. */
export function refusedTarget(address: string, allowance: TargetAllowance): string | null {
  if (allowance.allowPrivate) return normalised(address) ? null : "not an IP address";
  if (addressInRanges(address, allowance.allowedRanges)) return null;
  const reason = nonPublicReason(address);
  return reason ? `${address} is not a public address (${reason})` : null;
}
