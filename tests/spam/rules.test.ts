/**
 * The scoring rules one by one, on messages built here: RFC 5782 query
 * names (IPv4 reversed, IPv6 nibbles), the DNS list reader against a local
 * dnsmasq (listing, the 127.255.255.x error ignored, timeouts bounded, the
 * cache), header/MIME/link heuristics, allow/deny precedence, spamtest
 * mapping, X-Spam-* removal, and hostile input bounded in time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DnsLists, privateIp, reverseIp, reservedDomain } from "../../src/spam/dnsbl.ts";
import { scanMessage } from "../../src/spam/scan.ts";
import { headerRules } from "../../src/spam/rules-headers.ts";
import { mimeRules } from "../../src/spam/rules-mime.ts";
import { urlRules } from "../../src/spam/rules-urls.ts";
import { authFacts, authRules, domainAuthenticated } from "../../src/spam/rules-auth.ts";
import { decideLists } from "../../src/spam/lists.ts";
import { spamtestOf, statusHeaders, stripSpamHeaders } from "../../src/spam/spam-headers.ts";
import { greylistKey } from "../../src/spam/greylist.ts";
import { authenticatedDomainOf } from "../../src/spam/reputation.ts";
import { parseRspamdAnswer } from "../../src/spam/rspamd.ts";
import { createDns } from "../../src/delivery/dns.ts";
import { createLogger } from "../../src/log.ts";
import type { SpamListEntry } from "../../storage/filter-api.ts";
import { startDnsmasqLines, type Dnsmasq } from "../smtp/helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const names = (xs: { name: string }[]) => xs.map((x) => x.name).sort();
const NO_AUTH = authFacts(null);
const ctx = { facts: NO_AUTH, isLocalDomain: (d: string) => d === "ours.example", now: Date.parse("2026-12-07T12:00:00Z") };
const MAX = 512 * 1024;

describe("RFC 5782 query names", () => {
  test("IPv4 octets reversed, IPv6 as 32 nibbles, mapped IPv4 as IPv4", () => {
    expect(reverseIp("192.0.2.99")).toBe("99.2.0.192");
    expect(reverseIp("::ffff:192.0.2.99")).toBe("99.2.0.192");
    // RFC 5782 §2.4's own example address.
    expect(reverseIp("2001:db8:1:2:3:4:567:89ab")).toBe("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2");
    expect(reverseIp("2001:db8::1")).toBe("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
    expect(reverseIp("not an ip")).toBeNull();
  });
  test("private addresses and reserved names are never looked up; 127.0.0.2 (the test point) is", () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.20.0.1", "::1", "fd00::1", "100.64.0.1"]) expect(privateIp(ip)).toBe(true);
    for (const ip of ["127.0.0.2", "192.0.2.1", "2001:db8::1"]) expect(privateIp(ip)).toBe(false);
    for (const d of ["example.com", "a.example", "x.test", "foo.invalid", "localhost"]) expect(reservedDomain(d)).toBe(true);
    expect(reservedDomain("spammy-shop.xyz")).toBe(false);
  });
});

describe("DNS lists against dnsmasq", () => {
  let dns: Dnsmasq;
  const warnings: string[] = [];
  const log = Object.assign(createLogger("error"), {});
  beforeAll(async () => {
    dns = await startDnsmasqLines([
      "host-record=2.0.0.127.bl.test,127.0.0.2",
      "host-record=2.0.0.127.err.test,127.255.255.254",
      "host-record=2.0.0.127.wl.test,127.0.5.2",
      "host-record=spammy-shop.xyz.dbl.test,127.0.1.2",
      "host-record=2.0.0.127.notlisting.test,192.0.2.1",
    ]);
  });
  afterAll(async () => dns?.stop());

  test("listings, the allowlist's trust level, the error answer ignored and logged once", async () => {
    const l = new DnsLists({ dns: createDns([dns.server]), log: { ...log, warn: (m: string) => void warnings.push(m) } as never });
    const ip = await l.checkIp("127.0.0.2", ["bl.test", "err.test", "notlisting.test", "none.test"], ["wl.test"], 2000);
    expect(names(ip)).toEqual(["DNSWL_WL_TEST", "RBL_BL_TEST"]);
    expect(ip.find((s) => s.name === "DNSWL_WL_TEST")!.score).toBe(-2.3);
    await l.checkIp("127.0.0.2", ["err.test"], [], 2000);
    expect(warnings.filter((w) => w.includes("error answer")).length).toBe(1);
    const dom = await l.checkDomains(["www.example.com", "spammy-shop.xyz", "SPAMMY-SHOP.XYZ.", "clean.xyz"], ["dbl.test"], 2000);
    expect(dom.map((s) => [s.name, s.detail])).toEqual([["DBL_DBL_TEST", "spammy-shop.xyz listed in dbl.test"]]);
  });

  test("a list that never answers costs at most the timeout; answers are cached", async () => {
    let asked = 0;
    const slow = new DnsLists({ dns: { resolve4: () => (asked++, new Promise<string[]>(() => {})) }, log: log as never });
    const t0 = performance.now();
    expect(await slow.checkIp("192.0.2.1", ["a.test", "b.test", "c.test"], [], 200)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(asked).toBe(3);
    await slow.checkIp("192.0.2.1", ["a.test"], [], 200);
    expect(asked).toBe(3);
  });
});

describe("header rules", () => {
  test("a complete, ordinary header fires nothing", () => {
    const v = scanMessage(enc("From: Ann <ann@friends.example>\r\nTo: b@ours.example\r\nSubject: Lunch on Friday\r\nDate: Mon, 07 Dec 2026 11:00:00 +0000\r\nMessage-ID: <1@friends.example>\r\n\r\nHi\r\n"), MAX);
    expect(headerRules(v, ctx)).toEqual([]);
  });
  test("missing fields, odd dates, forged From, caps and mixed scripts", () => {
    const v = scanMessage(enc("From: \"support@paypal.com\" <x@evil.example>\r\nSubject: YOU HAVE WON A PRIZE\r\n\r\nx\r\n"), MAX);
    expect(names(headerRules(v, ctx))).toEqual(["FROM_DISPLAY_ADDR", "MISSING_DATE", "MISSING_MID", "SUBJ_ALL_CAPS"]);
    const w = scanMessage(enc("From: boss@ours.example\r\nSubject: =?utf-8?b?" + Buffer.from("Раypal account").toString("base64") + "?=\r\nDate: Mon, 07 Dec 2027 11:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\nx\r\n"), MAX);
    expect(names(headerRules(w, ctx))).toEqual(["DATE_IN_FUTURE", "FROM_LOCAL_NOAUTH", "SUBJ_MIXED_SCRIPTS"]);
    // Our domain with an aligned DKIM pass is fine; a date far before the top Received is stale.
    const facts = authFacts({ dkim: { results: [{ signingDomain: "ours.example", status: { result: "pass" } }] } });
    const x = scanMessage(enc("Received: from a by b; Mon, 07 Dec 2026 11:00:00 +0000\r\nFrom: boss@ours.example\r\nSubject: s\r\nDate: Mon, 07 Sep 2026 11:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\nx\r\n"), MAX);
    expect(names(headerRules(x, { ...ctx, facts }))).toEqual(["DATE_IN_PAST"]);
  });
  test("an encoded-word flood is counted, never decoded, and cheap", () => {
    const words = Array.from({ length: 50_000 }, (_, i) => `=?utf-8?q?w${i}?=`).join("\r\n ");
    const raw = enc(`From: a@b.example\r\nSubject: ${words}\r\nDate: Mon, 07 Dec 2026 11:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\nx\r\n`);
    const t0 = performance.now();
    const out = headerRules(scanMessage(raw, MAX), ctx);
    expect(names(out)).toEqual(["ENCODED_WORD_FLOOD"]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe("MIME and link rules", () => {
  const multipart = (parts: string[]) => enc(`From: a@b.example\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n${parts.map((p) => `--B\r\n${p}\r\n`).join("")}--B--\r\n`);
  test("executables, double extensions, undeclared 8-bit text", () => {
    const v = scanMessage(multipart(['Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="Invoice.PDF.exe"\r\n\r\nTVqQ', "Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe"]), MAX);
    expect(names(mimeRules(v))).toEqual(["DOUBLE_EXTENSION", "EXECUTABLE_ATTACHMENT", "MIME_8BIT_NO_CHARSET"]);
    const ok = scanMessage(multipart(['Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="report.pdf"\r\n\r\nJVBE', "Content-Type: text/plain; charset=utf-8\r\n\r\nhello"]), MAX);
    expect(mimeRules(ok)).toEqual([]);
  });
  test("HTML-only with almost no text; bare-IP links; link text showing another host", () => {
    const html = '<html><body><a href="http://198.51.100.7/login">www.mybank.example</a></body></html>';
    const v = scanMessage(enc(`From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`), MAX);
    expect(names(mimeRules(v))).toEqual(["HTML_SHORT_TEXT", "MIME_HTML_ONLY"]);
    const u = urlRules(v);
    expect(names(u.symbols)).toEqual(["HTML_LINK_MISMATCH", "URI_BARE_IP"]);
    expect(u.hosts).toEqual(["198.51.100.7"]);
    const fine = scanMessage(enc(`From: a@b.example\r\nContent-Type: text/html\r\n\r\n<p>See <a href="https://docs.example.org/a">docs.example.org</a> and more words here for reading.</p>\r\n`), MAX);
    expect(urlRules(fine).symbols).toEqual([]);
  });
  test("hostile HTML (an unclosed tag of a megabyte, 100,000 anchors) is bounded", () => {
    const t0 = performance.now();
    const huge = "<a " + "x".repeat(1_000_000) + ("<a href=http://h.example/>t</a>").repeat(100_000);
    const v = scanMessage(enc(`From: a@b.example\r\nContent-Type: text/html\r\n\r\n${huge}\r\n`), 8 * 1024 * 1024);
    const u = urlRules(v);
    expect(u.hosts.length).toBeLessThanOrEqual(200);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe("authentication, lists, headers, greylist keys", () => {
  test("auth symbols and which domains are proved", () => {
    const auth = { spf: { domain: "Sender.example", status: { result: "pass" } }, dkim: { results: [{ signingDomain: "mail.sender.example", status: { result: "pass" } }] }, dmarc: { status: { result: "pass" } } };
    expect(names(authRules(auth))).toEqual(["DKIM_PASS", "DMARC_PASS", "SPF_PASS"]);
    const f = authFacts(auth);
    expect(domainAuthenticated("sender.example", f)).toBe(true);
    expect(domainAuthenticated("other.example", f)).toBe(false);
    expect(names(authRules({ spf: { status: { result: "fail" } }, dmarc: { status: { result: "fail" } } }))).toEqual(["DMARC_FAIL", "SPF_FAIL"]);
  });
  test("allow needs an authenticated identity; the narrowest scope wins; deny beats allow at equal rank", () => {
    const e = (id: number, scope: SpamListEntry["scope"], kind: "allow" | "deny", pattern: string): SpamListEntry => ({ id, scope, kind, pattern, createdAt: 0 });
    const entries = [e(1, { accountId: 1 }, "allow", "friend.example"), e(2, "global", "deny", "friend.example"), e(3, { domain: "ours.example" }, "deny", "boss@friend.example")];
    expect(decideLists(entries, [{ address: "x@friend.example", authenticated: false }])?.entry.id).toBe(2);
    expect(decideLists(entries, [{ address: "x@mail.friend.example", authenticated: true }])?.entry.id).toBe(1);
    expect(decideLists(entries, [{ address: "boss@friend.example", authenticated: true }])?.entry.id).toBe(1);
    expect(decideLists([e(4, "global", "allow", "a.example"), e(5, "global", "deny", "a.example")], [{ address: "u@a.example", authenticated: true }])?.kind).toBe("deny");
  });
  test("spamtest and percent follow RFC 5235 §3.2; X-Spam-Status folds; X-Spam-* removed byte-exactly", () => {
    expect(spamtestOf(-3, 5, false)).toEqual({ spamtest: 1, percent: 0 });
    expect(spamtestOf(5, 5, true)).toEqual({ spamtest: 6, percent: 50 });
    expect(spamtestOf(1000, 5, true)).toEqual({ spamtest: 10, percent: 100 });
    expect(spamtestOf(4.9, 5, false).spamtest).toBeLessThanOrEqual(5);
    const h = statusHeaders(7.25, 5, true, Array.from({ length: 30 }, (_, i) => ({ name: `RULE_NUMBER_${i}`, score: 0.2 })));
    for (const line of h.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
    expect(h).toStartWith("X-Spam-Status: Yes, score=7.3 required=5.0 tests=RULE_NUMBER_0,");
    const raw = "X-Spam-Status: No\r\n\tcontinued\r\nFrom: a@b\r\nx-spam-score: -9\r\nX-Spammer: keep\r\n\r\nX-Spam-Status: in the body\r\n";
    expect(new TextDecoder().decode(stripSpamHeaders(enc(raw)))).toBe("From: a@b\r\nX-Spammer: keep\r\n\r\nX-Spam-Status: in the body\r\n");
  });
  test("greylist triplets key the client network", () => {
    expect(greylistKey("192.0.2.77", "A@B.example", "c@ours.example")).toBe("192.0.2.0/24|a@b.example|c@ours.example");
    expect(greylistKey("2001:db8:1:2:3::9", "", "c@ours.example")).toBe("2001:0db8:0001:0002::/64|<>|c@ours.example");
  });
  test("reputation reads only our own Authentication-Results", () => {
    const fields = [
      { key: "authentication-results", value: "mx.other.example; dkim=pass header.d=evil.example" },
      { key: "authentication-results", value: "mail.ours.example; spf=pass smtp.mailfrom=bounce@news.shop.example; dkim=fail header.d=x.example" },
    ];
    expect(authenticatedDomainOf(fields, "mail.ours.example", "shop.example")).toBe("shop.example");
    expect(authenticatedDomainOf(fields, "mail.ours.example", "evil.example")).toBeNull();
  });
  test("rspamd answers are read defensively", () => {
    expect(parseRspamdAnswer({ score: 3.5, required_score: 15, action: "no action", symbols: { R_SPF_NA: { name: "R_SPF_NA", score: 0, description: "no SPF" } } })).toEqual({
      score: 3.5,
      requiredScore: 15,
      action: "no action",
      symbols: [{ name: "R_SPF_NA", score: 0, detail: "no SPF" }],
    });
    for (const bad of [null, "x", {}, { score: "1", action: "x" }, { score: Infinity, action: "x" }]) expect(parseRspamdAnswer(bad)).toBeNull();
  });
});
