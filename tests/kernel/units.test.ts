import { describe, expect, test } from "bun:test";
import { createAuthCache, normalizeIp } from "../../src/auth.ts";
import { dnsRecords, txtValue } from "../../src/dns-records.ts";
import { bindErrorMessage } from "../../src/server.ts";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import type { Account } from "../../storage/api.ts";

const acct = (id: number, email: string): Account => ({ id, email, domainId: 1, quotaBytes: null, usedBytes: 0, settings: {}, createdAt: 0, admin: false, disabled: false });

describe("auth cache", () => {
  test("hits only for the same user and password, case-insensitive user", () => {
    const c = createAuthCache();
    c.set("Alice@Example.test", "pw", acct(1, "alice@example.test"), "s1");
    expect(c.get("alice@example.test", "pw")).toEqual({ accountId: 1, email: "alice@example.test", stamp: "s1", appPassword: null });
    expect(c.get("alice@example.test", "PW")).toBeNull();
    expect(c.get("bob@example.test", "pw")).toBeNull();
  });

  test("expires after the TTL", () => {
    let now = 1000;
    const c = createAuthCache({ ttlMs: 100, now: () => now });
    c.set("a@x.test", "pw", acct(1, "a@x.test"), "s1");
    now += 99;
    expect(c.get("a@x.test", "pw")).not.toBeNull();
    now += 2;
    expect(c.get("a@x.test", "pw")).toBeNull();
    expect(c.size).toBe(0);
  });

  test("invalidate drops every entry of an account; size is bounded", () => {
    const c = createAuthCache({ maxEntries: 3 });
    c.set("a@x.test", "1", acct(1, "a@x.test"), "s1");
    c.set("a@x.test", "2", acct(1, "a@x.test"), "s1");
    c.set("b@x.test", "1", acct(2, "b@x.test"), "s1");
    c.invalidate("A@x.test");
    expect(c.get("a@x.test", "1")).toBeNull();
    expect(c.get("a@x.test", "2")).toBeNull();
    expect(c.get("b@x.test", "1")).not.toBeNull();
    for (let i = 0; i < 10; i++) c.set(`u${i}@x.test`, "p", acct(10 + i, `u${i}@x.test`), "s1");
    expect(c.size).toBe(3);
  });

  test("normalizeIp folds IPv4-mapped IPv6", () => {
    expect(normalizeIp("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("2001:db8::1")).toBe("2001:db8::1");
    expect(normalizeIp(undefined)).toBe("unknown");
  });
});

describe("bind error line", () => {
  test("permission denied names root, the capability and the variable", () => {
    const m = bindErrorMessage("IMAPS", "0.0.0.0:993", Object.assign(new Error("listen EACCES"), { code: "EACCES" }));
    expect(m).toContain("IMAPS");
    expect(m).toContain("0.0.0.0:993");
    expect(m).toContain("permission denied");
    expect(m).toContain("root");
    expect(m).toContain("CAP_NET_BIND_SERVICE");
    expect(m).toContain("PILLARBOX_IMAPS_LISTEN");
    expect(m).not.toContain("\n");
  });
  test("address not available", () => {
    const m = bindErrorMessage("HTTP", "192.0.2.9:80", Object.assign(new Error("x"), { code: "EADDRNOTAVAIL" }));
    expect(m).toContain("PILLARBOX_HTTP_LISTEN");
    expect(m).toContain("not available");
  });
});

describe("DNS records", () => {
  test("TXT values are split into strings of at most 255 characters", () => {
    const long = "a".repeat(600);
    const v = txtValue(long);
    const parts = [...v.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(parts.map((p) => p.length)).toEqual([255, 255, 90]);
    expect(parts.join("")).toBe(long);
  });
  test("every record kind is present", () => {
    const r = dnsRecords({ domain: "d.test", hostname: "mx.d.test", dkimSelector: "s1", dkimPublicKey: "QUJD", reportAddress: "pm@d.test", mtaStsId: "1" });
    const names = r.map((x) => `${x.type} ${x.name}`);
    for (const want of ["MX d.test.", "TXT d.test.", "TXT s1._domainkey.d.test.", "TXT _dmarc.d.test.", "TXT _mta-sts.d.test.", "TXT _smtp._tls.d.test.", "SRV _imaps._tcp.d.test.", "SRV _submissions._tcp.d.test.", "SRV _autodiscover._tcp.d.test.", "CNAME autoconfig.d.test.", "CNAME autodiscover.d.test."]) {
      expect(names).toContain(want);
    }
  });
});

describe("argument parser", () => {
  const specs = { quota: { value: true, help: "" }, force: { help: "" } };
  test("forms", () => {
    expect(parseArgs(["a", "--quota=5", "--force", "b"], specs, "x")).toEqual({ positionals: ["a", "b"], options: { quota: "5", force: true } });
    expect(parseArgs(["--quota", "5", "--", "--force"], specs, "x")).toEqual({ positionals: ["--force"], options: { quota: "5" } });
  });
  test("errors", () => {
    expect(() => parseArgs(["--quota"], specs, "x")).toThrow(UsageError);
    expect(() => parseArgs(["--force=yes"], specs, "x")).toThrow(/takes no value/);
    expect(() => parseArgs(["--nope"], specs, "x")).toThrow(/unknown option --nope/);
    expect(() => parseArgs(["-q"], specs, "x")).toThrow(/unknown option -q/);
  });
});
