/** IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d; the core works with a.b.c.d. */
export function clientIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
