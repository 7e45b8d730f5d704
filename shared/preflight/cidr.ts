// IPv4 CIDR relations and port ranges, for the network path analysis. A rule decides for a whole
// subnet only when its CIDR covers the subnet: the database may sit at any address in it (and move
// there after a failover).
import ipaddr from 'ipaddr.js';

export type CidrRelation = 'covers' | 'partly' | 'disjoint';

function parse(cidr: string): [ipaddr.IPv4, number] | null {
  try {
    const [addr, bits] = ipaddr.parseCIDR(cidr);
    return addr.kind() === 'ipv4' ? [addr as ipaddr.IPv4, bits] : null;
  } catch {
    return null;
  }
}

/** How `rule` relates to `subject`: covers all of it, overlaps part of it, or misses it. */
export function cidrRelation(rule: string, subject: string): CidrRelation {
  const r = parse(rule);
  const s = parse(subject);
  if (!r || !s) return 'disjoint';
  if (s[1] >= r[1]) return s[0].match(r) ? 'covers' : 'disjoint';
  // The subject is wider than the rule: the rule overlaps part of it when it lies inside it.
  return r[0].match(s) ? 'partly' : 'disjoint';
}

export const prefixLength = (cidr: string): number => parse(cidr)?.[1] ?? -1;

export type PortRange = readonly [number, number];
/** Where a database's replies go: the client's ephemeral port (AWS's network ACL guidance: 1024-65535). */
export const EPHEMERAL_PORTS: PortRange = [1024, 65535];
/** Linux's default ephemeral range (net.ipv4.ip_local_port_range), which Aurora's hosts use. */
export const LINUX_EPHEMERAL_PORTS: PortRange = [32768, 60999];

export const formatPorts = ([lo, hi]: PortRange): string => (lo === hi ? String(lo) : lo === 0 && hi === 65535 ? 'all ports' : `${lo}-${hi}`);

/** `ranges` minus `cut`. */
export function subtractPorts(ranges: PortRange[], [lo, hi]: PortRange): PortRange[] {
  return ranges.flatMap(([a, b]): PortRange[] => {
    if (hi < a || lo > b) return [[a, b]];
    return [...(a < lo ? [[a, lo - 1] as const] : []), ...(hi < b ? [[hi + 1, b] as const] : [])];
  });
}

/** The parts of `ranges` inside `window`. */
export function intersectPorts(ranges: PortRange[], [lo, hi]: PortRange): PortRange[] {
  return ranges.flatMap(([a, b]): PortRange[] => (hi < a || lo > b ? [] : [[Math.max(a, lo), Math.min(b, hi)]]));
}
