import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigError, SETTINGS, defaultConfig, loadConfig, mergeConfig, parseListen } from "../../src/config.ts";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "pb-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function toml(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("loadConfig precedence: defaults < TOML < env < flags", () => {
  const file = toml(
    "prec.toml",
    `hostname = "toml.example"
data_dir = "${join(dir, "from-toml")}"
[listen]
smtp = "127.0.0.1:2525"
imap = "off"
[limits]
max_message_size = "10M"
[smtp]
verify_inbound = false
`,
  );

  test("defaults", () => {
    const c = loadConfig({ file: null, env: {}, flags: {} });
    expect(c.dataDir).toBe(resolve("data"));
    expect(c.databaseUrl).toBe(`file:${resolve("data")}/pillarbox.db`);
    for (const [name, port] of Object.entries(LISTENER_DEFAULTS)) {
      expect(c.listeners[name as keyof typeof LISTENER_DEFAULTS]).toEqual({ host: "0.0.0.0", port });
    }
    expect(c.log.level).toBe("info");
    expect(c.limits.maxMessageSize).toBe(50 * 1024 * 1024);
    expect(c.smtp.verifyInbound).toBe(true);
    expect(c.tls).toEqual({ certFile: null, keyFile: null });
  });

  test("TOML overrides defaults", () => {
    const c = loadConfig({ file, env: {}, flags: {} });
    expect(c.hostname).toBe("toml.example");
    expect(c.dataDir).toBe(join(dir, "from-toml"));
    expect(c.databaseUrl).toBe(`file:${join(dir, "from-toml")}/pillarbox.db`);
    expect(c.listeners.SMTP).toEqual({ host: "127.0.0.1", port: 2525 });
    expect(c.listeners.IMAP).toBeNull();
    expect(c.listeners.POP3).toEqual({ host: "0.0.0.0", port: 110 });
    expect(c.limits.maxMessageSize).toBe(10 * 1024 * 1024);
    expect(c.smtp.verifyInbound).toBe(false);
  });

  test("environment overrides TOML", () => {
    const c = loadConfig({
      file,
      env: { PILLARBOX_HOSTNAME: "env.example", PILLARBOX_SMTP_LISTEN: "0.0.0.0:2626", PILLARBOX_IMAP_LISTEN: "[::1]:1143", PILLARBOX_SMTP_VERIFY_INBOUND: "yes" },
      flags: {},
    });
    expect(c.hostname).toBe("env.example");
    expect(c.listeners.SMTP).toEqual({ host: "0.0.0.0", port: 2626 });
    expect(c.listeners.IMAP).toEqual({ host: "::1", port: 1143 });
    expect(c.smtp.verifyInbound).toBe(true);
    expect(c.limits.maxMessageSize).toBe(10 * 1024 * 1024); // still from TOML
  });

  test("flags override environment and TOML", () => {
    const c = loadConfig({
      file,
      env: { PILLARBOX_HOSTNAME: "env.example", PILLARBOX_SMTP_LISTEN: "0.0.0.0:2626" },
      flags: { hostname: "flag.example", "smtp-listen": "off", "max-message-size": "1024" },
    });
    expect(c.hostname).toBe("flag.example");
    expect(c.listeners.SMTP).toBeNull();
    expect(c.limits.maxMessageSize).toBe(1024);
  });

  test("PILLARBOX_DATA_DIR is made absolute and moves the default database", () => {
    const c = loadConfig({ file: null, env: { PILLARBOX_DATA_DIR: "some/rel" } });
    expect(c.dataDir).toBe(resolve("some/rel"));
    expect(c.databaseUrl).toBe(`file:${resolve("some/rel")}/pillarbox.db`);
  });

  test("an explicit database URL wins; libsql:// and http:// are accepted", () => {
    expect(loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: "libsql://db.example.org" } }).databaseUrl).toBe("libsql://db.example.org");
    expect(loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: "http://127.0.0.1:8080" } }).databaseUrl).toBe("http://127.0.0.1:8080");
    expect(loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: "file:rel.db" } }).databaseUrl).toBe(`file:${resolve("rel.db")}`);
    expect(() => loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: "mysql://x" } })).toThrow(ConfigError);
    const pg = "postgres://pillarbox:s3cret@db.example:5432/mail?sslmode=require";
    expect(loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: pg } }).databaseUrl).toBe(pg);
    expect(loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: "postgresql://db.example/mail" } }).databaseUrl).toBe("postgresql://db.example/mail");
    // a refused URL's error never repeats the password
    expect(() => loadConfig({ file: null, env: { PILLARBOX_DATABASE_URL: "pg://u:s3cret@h/db" } })).toThrow(/^(?!.*s3cret)/s);
  });

  test("PILLARBOX_CONFIG names the file; <data dir>/pillarbox.toml is picked up otherwise", () => {
    const viaEnv = loadConfig({ env: { PILLARBOX_CONFIG: file } });
    expect(viaEnv.hostname).toBe("toml.example");
    const dd = join(dir, "auto");
    rmSync(dd, { recursive: true, force: true });
    require("node:fs").mkdirSync(dd);
    writeFileSync(join(dd, "pillarbox.toml"), 'hostname = "auto.example"\n');
    expect(loadConfig({ env: { PILLARBOX_DATA_DIR: dd } }).hostname).toBe("auto.example");
    expect(loadConfig({ file: null, env: { PILLARBOX_DATA_DIR: dd } }).hostname).not.toBe("auto.example");
  });

  test("every setting has a distinct env name, flag and TOML key", () => {
    for (const key of ["env", "flag", "toml", "path"] as const) {
      expect(new Set(SETTINGS.map((s) => s[key])).size).toBe(SETTINGS.length);
    }
    for (const s of SETTINGS) expect(s.env.startsWith("PILLARBOX_")).toBe(true);
  });
});

describe("listener parsing", () => {
  test("accepted forms", () => {
    expect(parseListen("127.0.0.1:25", "x")).toEqual({ host: "127.0.0.1", port: 25 });
    expect(parseListen("localhost:0", "x")).toEqual({ host: "localhost", port: 0 });
    expect(parseListen(":587", "x")).toEqual({ host: "0.0.0.0", port: 587 });
    expect(parseListen("993", "x")).toEqual({ host: "0.0.0.0", port: 993 });
    expect(parseListen("[::]:143", "x")).toEqual({ host: "::", port: 143 });
    expect(parseListen(" off ", "x")).toBeNull();
    expect(parseListen("OFF", "x")).toBeNull();
  });

  test.each(["", "nonsense", "1.2.3.4:", "1.2.3.4:http", "1.2.3.4:65536", "::1:25", "[zz]:25", "host name:25", "1.2.3.4:-1"])("rejects %p", (bad) => {
    expect(() => parseListen(bad, "PILLARBOX_SMTP_LISTEN")).toThrow(ConfigError);
  });

  test("the error names the variable and the value", () => {
    try {
      loadConfig({ file: null, env: { PILLARBOX_IMAPS_LISTEN: "127.0.0.1:99999" } });
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toContain("PILLARBOX_IMAPS_LISTEN");
      expect((e as Error).message).toContain("99999");
    }
  });
});

describe("invalid values give clear errors", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PILLARBOX_LOG_LEVEL: "loud" }, /PILLARBOX_LOG_LEVEL: expected one of debug, info, warn, error/],
    [{ PILLARBOX_MAX_MESSAGE_SIZE: "big" }, /PILLARBOX_MAX_MESSAGE_SIZE: expected a size/],
    [{ PILLARBOX_MAX_CONNECTIONS: "0" }, /PILLARBOX_MAX_CONNECTIONS: expected a whole number from 1/],
    [{ PILLARBOX_SMTP_DMARC_REJECT: "maybe" }, /expected true or false/],
    [{ PILLARBOX_IMAP_IDLE_TIMEOUT_SECONDS: "60" }, /from 1800/],
    [{ PILLARBOX_HOSTNAME: "bad_host!" }, /not a valid host name/],
    [{ PILLARBOX_TLS_CERT: "/x.pem" }, /must be set together/],
  ];
  test.each(cases)("%p", (env, re) => {
    expect(() => loadConfig({ file: null, env })).toThrow(re);
  });

  test("unknown TOML key, bad TOML, missing file, unknown flag", () => {
    expect(() => loadConfig({ file: toml("typo.toml", "[limits]\nmax_mesage_size = 5\n"), env: {} })).toThrow(/unknown setting "limits.max_mesage_size"/);
    expect(() => loadConfig({ file: toml("bad.toml", "hostname = \n"), env: {} })).toThrow(/invalid TOML/);
    expect(() => loadConfig({ file: join(dir, "missing.toml"), env: {} })).toThrow(/cannot read config file .*missing.toml: ENOENT/);
    expect(() => loadConfig({ file: null, env: {}, flags: { "no-such": "1" } })).toThrow(/unknown option --no-such/);
  });

  test("TOML types are checked", () => {
    expect(() => loadConfig({ file: toml("type.toml", "[limits]\nmax_connections = \"lots\"\n"), env: {} })).toThrow(/limits.max_connections: expected a whole number/);
    const c = loadConfig({ file: toml("list.toml", '[queue]\ndns_servers = ["127.0.0.1:5353", "::1"]\n'), env: {} });
    expect(c.queue.dnsServers).toEqual(["127.0.0.1:5353", "::1"]);
    expect(loadConfig({ file: null, env: { PILLARBOX_QUEUE_DNS_SERVERS: "1.1.1.1, 9.9.9.9" } }).queue.dnsServers).toEqual(["1.1.1.1", "9.9.9.9"]);
  });
});

test("mergeConfig applies a deep partial without touching the base", () => {
  const base = defaultConfig();
  const merged = mergeConfig(base, { smtp: { maxRecipients: 5 }, listeners: { SMTP: null }, queue: { dnsServers: ["x"] } });
  expect(merged.smtp.maxRecipients).toBe(5);
  expect(merged.smtp.dmarcReject).toBe(true);
  expect(merged.listeners.SMTP).toBeNull();
  expect(merged.listeners.IMAP).toEqual({ host: "0.0.0.0", port: 143 });
  expect(merged.queue.dnsServers).toEqual(["x"]);
  expect(base.smtp.maxRecipients).toBe(100);
  expect(base.listeners.SMTP).not.toBeNull();
});

test("docs/CONFIG.md documents every setting (environment variable, TOML key, flag)", () => {
  const doc = require("node:fs").readFileSync(resolve(import.meta.dir, "../../docs/CONFIG.md"), "utf8") as string;
  for (const s of SETTINGS) {
    expect(doc).toContain("`" + s.env + "`");
    expect(doc).toContain("`" + s.toml + "`");
    expect(doc).toContain("`--" + s.flag + "`");
  }
});

test("a list setting set to none (or off) is empty; an empty environment variable keeps the default", () => {
  const none = loadConfig({ file: null, env: { PILLARBOX_SPAM_DNS_BLOCKLISTS: "none", PILLARBOX_SPAM_DNS_ALLOWLISTS: "OFF" } });
  expect(none.spam.dnsBlocklists).toEqual([]);
  expect(none.spam.dnsAllowlists).toEqual([]);
  const empty = loadConfig({ file: null, env: { PILLARBOX_SPAM_DNS_BLOCKLISTS: "" } });
  expect(empty.spam.dnsBlocklists).toEqual(["zen.spamhaus.org"]);
  const two = loadConfig({ file: null, env: { PILLARBOX_SPAM_DNS_BLOCKLISTS: "a.example, b.example" } });
  expect(two.spam.dnsBlocklists).toEqual(["a.example", "b.example"]);
});
