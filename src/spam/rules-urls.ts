/**
 * Links in the message: URLs whose host is a bare IP address (phishing kits
 * and compromised hosts without a name), HTML links whose visible text shows
 * another host than the one they go to (the classic "https://yourbank.example"
 * text over a link elsewhere), and the link hosts themselves for the domain
 * blocklists (./dnsbl.ts). Bounded: at most MAX_URLS links read, and no regex
 * runs over an unbounded slice (anchors are cut out by index first).
 */
import { decodeEntities } from "../../mail/index.ts";
import type { SpamSymbol } from "./types.ts";
import type { ScanView } from "./scan.ts";

export const URL_SCORES = {
  URI_BARE_IP: 1.5,
  // 0.5: on the benchmark's training half 9 spam, 14 ham (newsletters' tracking links show one host, go to another)
  HTML_LINK_MISMATCH: 0.5,
} as const;

export const MAX_URLS = 200;
/** Characters of an anchor's tag and of its text that are read. */
const MAX_TAG = 2000;
const MAX_ANCHOR_TEXT = 300;

export interface UrlFacts {
  symbols: SpamSymbol[];
  /** Distinct link hosts (lower-case), in order of appearance, at most MAX_URLS. */
  hosts: string[];
}

const URL_RE = /\bhttps?:\/\/([^\s/?#"'<>]{1,255})/gi;

function hostOf(authority: string): string | null {
  let h = authority.toLowerCase();
  const at = h.lastIndexOf("@");
  if (at >= 0) h = h.slice(at + 1);
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(0, end + 1) : null;
  }
  h = h.replace(/:\d*$/, "").replace(/\.$/, "");
  return h.length ? h : null;
}

function isBareIp(host: string): boolean {
  if (host.startsWith("[")) return true;
  // Dotted quads, and the decimal/hex single-number forms browsers accept (http://3232235777/).
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || /^(0x[0-9a-f]{1,8}|\d{8,10})$/.test(host);
}

/** The last two labels (or three for a two-letter country second level such as co.uk): enough to tell "another site" apart without the public suffix list. */
export function siteOf(host: string): string {
  const labels = host.split(".");
  if (labels.length <= 2) return host;
  const n = labels.length;
  if (labels[n - 1]!.length === 2 && labels[n - 2]!.length <= 3) return labels.slice(-3).join(".");
  return labels.slice(-2).join(".");
}

export function urlRules(view: ScanView): UrlFacts {
  const hosts: string[] = [];
  const seen = new Set<string>();
  let bareIp: string | null = null;
  let mismatch: string | null = null;
  let count = 0;
  const note = (host: string | null) => {
    if (!host || seen.has(host) || hosts.length >= MAX_URLS) return;
    seen.add(host);
    hosts.push(host);
    if (!bareIp && isBareIp(host)) bareIp = host;
  };
  for (const src of [view.text, view.html]) {
    URL_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while (count < MAX_URLS && (m = URL_RE.exec(src)) !== null) {
      count++;
      note(hostOf(m[1]!));
    }
  }
  // Anchors: <a ... href="X" ...>TEXT</a>, found by index so a tag without ">" costs one bounded slice.
  const html = view.html;
  const lower = html.toLowerCase();
  let anchors = 0;
  for (let i = nextAnchor(lower, 0); i >= 0 && anchors < MAX_URLS; anchors++) {
    const close = html.indexOf(">", i);
    if (close < 0 || close - i > MAX_TAG) {
      i = nextAnchor(lower, i + 2);
      continue;
    }
    const tag = html.slice(i, close);
    const href = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const endA = lower.indexOf("</a", close);
    const text = endA > close && endA - close <= MAX_ANCHOR_TEXT ? decodeEntities(html.slice(close + 1, endA).replace(/<[^>]{0,200}>/g, "")).trim() : "";
    const target = href ? decodeEntities(href[1] ?? href[2] ?? href[3] ?? "") : "";
    const tm = /^https?:\/\/([^\s/?#"'<>]{1,255})/i.exec(target);
    if (tm && text) {
      const hrefHost = hostOf(tm[1]!);
      // The text shows a URL or a bare host name of its own.
      const shown = /^(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#]\S*)?$/i.exec(text);
      if (hrefHost && shown && !mismatch) {
        const shownHost = shown[1]!.toLowerCase();
        if (siteOf(shownHost) !== siteOf(hrefHost)) mismatch = `${shownHost} -> ${hrefHost}`;
      }
    }
    i = nextAnchor(lower, close);
  }
  const symbols: SpamSymbol[] = [];
  if (bareIp) symbols.push({ name: "URI_BARE_IP", score: URL_SCORES.URI_BARE_IP, detail: `link to ${bareIp}` });
  if (mismatch) symbols.push({ name: "HTML_LINK_MISMATCH", score: URL_SCORES.HTML_LINK_MISMATCH, detail: `link text shows ${mismatch}` });
  return { symbols, hosts };
}

/** The next "<a" followed by whitespace in the lower-cased HTML, from `from`. */
function nextAnchor(lower: string, from: number): number {
  for (let i = lower.indexOf("<a", from); i >= 0; i = lower.indexOf("<a", i + 2)) {
    const c = lower.charCodeAt(i + 2);
    if (c === 32 || c === 9 || c === 10 || c === 13) return i;
  }
  return -1;
}
