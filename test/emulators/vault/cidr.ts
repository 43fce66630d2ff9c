/** IPv4 CIDR matching for token_bound_cidrs (IPv6 entries match only exactly). */

function ipv4(addr: string): number | null {
  const plain = addr.startsWith("::ffff:") ? addr.slice(7) : addr;
  const parts = plain.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

export function ipAllowed(remote: string, cidrs: string[]): boolean {
  const ip = ipv4(remote);
  return cidrs.some((c) => {
    const [base, bitsText] = c.split("/");
    if (base === undefined) return false;
    const net = ipv4(base);
    if (ip === null || net === null) return base === remote;
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
    const size = 2 ** (32 - bits);
    return Math.floor(ip / size) === Math.floor(net / size);
  });
}
