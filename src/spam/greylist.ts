/**
 * Greylisting (RFC 6647): the first delivery attempt of an unknown
 * (client network, envelope sender, recipient) triplet is deferred with 451
 * 4.7.1; a retry after the delay is accepted and the triplet is remembered
 * for weeks, so a sender that retries like a real MTA waits once.
 * RFC 6647 §4.1: the client is keyed by its network (IPv4 /24, IPv6 /64),
 * since large senders retry from another host of the same pool.
 */
import { isIP } from "node:net";

/** A passed triplet stays passed this long after its last delivery (RFC 6647 §4.2 suggests at least a month). */
export const GREYLIST_PASS_TTL_MS = 36 * 86_400_000;

export function clientNet(ip: string): string {
  let a = ip.trim().toLowerCase();
  if (a.startsWith("::ffff:") && isIP(a.slice(7)) === 4) a = a.slice(7);
  if (isIP(a) === 4) return a.split(".").slice(0, 3).join(".") + ".0/24";
  if (isIP(a) === 6) {
    const [head, tail] = a.split("::") as [string, string | undefined];
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
    return groups.slice(0, 4).map((g) => g.padStart(4, "0")).join(":") + "::/64";
  }
  return a;
}

export function greylistKey(ip: string, mailFrom: string, recipient: string): string {
  // The null sender (bounces) is one sender; long addresses are cut (the key is an index key).
  return `${clientNet(ip)}|${(mailFrom || "<>").toLowerCase().slice(0, 320)}|${recipient.toLowerCase().slice(0, 320)}`;
}
