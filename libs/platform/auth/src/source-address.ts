import { isIPv6 } from 'node:net';

/**
 * Whom failed logins are counted against: an IPv4 address (IPv4-mapped IPv6 included), or an
 * IPv6 /64, since one subscriber usually holds a whole /64 and could rotate through it.
 */
export function sourceOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const bare = address.split('%')[0];
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped) return mapped[1];
  if (!isIPv6(bare)) return bare;
  // An embedded IPv4 tail (::1.2.3.4) becomes the last two groups.
  const hex = bare.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'),
  );
  const [head, tail] = hex.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const all =
    tail === undefined
      ? groups(head)
      : [...groups(head), ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
