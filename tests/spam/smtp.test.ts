/**
 * The spam filter end to end over SMTP with swaks (port 25, real sockets):
 * GTUBE lands in Junk with X-Spam-Status: Yes, a normal message stays in
 * INBOX with No; spam.reject_score refuses with 550 5.7.1; DNS lists from a
 * local dnsmasq (IP list answering 127.0.0.2 for the RFC 5782 test point,
 * a domain list, a list answering Spamhaus's 127.255.255.x error which is
 * ignored); the allow list only for an SPF-authenticated sender (a forged
 * From does not get through); the deny list; greylisting (451 4.7.1, then
 * accepted once the delay passed); X-Spam-* fields a sender adds are removed;
 * hostile messages (an encoded-word flood, a huge MIME tree) are delivered;
 * submission is never scored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { folderMessages, run, startDnsmasqLines, text, waitFor, type Dnsmasq } from "../smtp/helpers.ts";
import { GTUBE } from "../../src/spam/gtube.ts";

const BOB = "bob@spam.test";
const CAROL = "carol@spam.test";
const PASS = "pw-spam-smtp-1";
let srv: TestServer;
let dns: Dnsmasq;
let dir: string;
let n = 0;

function message(opts: { from?: string; subject?: string; body?: string; extraHeaders?: string[]; to?: string } = {}): string {
  n++;
  return [
    ...(opts.extraHeaders ?? []),
    `From: ${opts.from ?? "Friendly Sender <someone@remote.test>"}`,
    `To: ${opts.to ?? BOB}`,
    `Subject: ${opts.subject ?? `Lunch on Friday ${n}`}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <spam-test-${n}-${Date.now()}@remote.test>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.body ?? "Hello Bob,\r\nshall we meet at noon at the usual place?\r\nCheers",
    "",
  ].join("\r\n");
}

async function swaks(body: string, o: { from?: string; to?: string; localIp?: string } = {}) {
  const file = join(dir, `m${++n}.eml`);
  writeFileSync(file, body.slice(0, -2));
  const args = ["--server", `127.0.0.1:${srv.port("SMTP")}`, "--from", o.from ?? "someone@remote.test", "--to", o.to ?? BOB, "--helo", "client.remote.test", "--data", file, "--suppress-data"];
  if (o.localIp) args.push("--local-interface", o.localIp);
  return run("swaks", args, { timeoutMs: 30_000 });
}

/** The newest message of a folder whose Message-ID is in `body`. */
async function landed(email: string, body: string): Promise<{ folder: string; raw: string }> {
  const mid = /Message-ID: (<[^>]+>)/.exec(body)![1]!;
  for (const folder of ["INBOX", "Junk"]) {
    const msgs = await folderMessages(srv.store, email, folder);
    const hit = msgs.map(text).find((m) => m.includes(mid));
    if (hit) return { folder, raw: hit };
  }
  throw new Error(`message ${mid} not delivered to ${email}`);
}

const status = (raw: string) => /^X-Spam-Status: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/m.exec(raw)?.[1]?.replace(/\r\n\t/g, "") ?? null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-spam-smtp-"));
  dns = await startDnsmasqLines([
    // RFC 5782 §5 test point in the IP list, and the Spamhaus "public resolver" error answer in another.
    "host-record=2.0.0.127.bl.test,127.0.0.2",
    "host-record=2.0.0.127.errlist.test,127.255.255.254",
    // A domain list naming one shop; domains are queried as <domain>.<zone>.
    "host-record=spammy-shop.xyz.dbl.test,127.0.1.2",
    // SPF for the allow-listed friend: the loopback network may send for it.
    'txt-record=friend.test,"v=spf1 ip4:127.0.0.0/8 -all"',
  ]);
  srv = await startTestServer({
    listeners: ["SMTP", "SUBMISSION"],
    config: {
      smtp: { verifyInbound: true },
      queue: { dnsServers: [dns.server] },
      spam: { dnsBlocklists: ["bl.test", "errlist.test"], domainBlocklists: ["dbl.test"], dnsAllowlists: [], dnsTimeoutMs: 2000 },
    },
  });
  await createUser(srv.store, BOB, PASS);
  await createUser(srv.store, CAROL, PASS);
});

afterAll(async () => {
  await srv?.close();
  await dns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("scoring at port 25", () => {
  test("GTUBE lands in Junk with X-Spam-Status: Yes; a normal message stays in INBOX with No", async () => {
    const spam = message({ body: `Buy now\r\n${GTUBE}\r\n` });
    expect((await swaks(spam)).stdout).toContain("<-  250 2.0.0 Ok");
    const got = await landed(BOB, spam);
    expect(got.folder).toBe("Junk");
    expect(status(got.raw)).toMatch(/^Yes, score=\d+\.\d required=5\.0 tests=.*GTUBE/);
    expect(got.raw).toMatch(/^X-Spam-Score: 10\d\d\.\d\r$/m);

    const ham = message();
    expect((await swaks(ham)).stdout).toContain("<-  250 2.0.0 Ok");
    const ok = await landed(BOB, ham);
    expect(ok.folder).toBe("INBOX");
    expect(status(ok.raw)).toMatch(/^No, score=-?\d+\.\d required=5\.0 tests=/);
  });

  test("X-Spam-* fields the sender wrote are removed before scoring", async () => {
    const forged = message({ extraHeaders: ["X-Spam-Status: No, score=-50.0 required=5.0 tests=NONE", "X-Spam-Score: -50.0", "X-Spam-Flag: NO"], body: `${GTUBE}\r\n` });
    expect((await swaks(forged)).stdout).toContain("<-  250 2.0.0 Ok");
    const got = await landed(BOB, forged);
    expect(got.folder).toBe("Junk");
    expect(got.raw.match(/^X-Spam-Status:/gm)!.length).toBe(1);
    expect(got.raw).not.toContain("score=-50.0");
    expect(got.raw).not.toContain("X-Spam-Flag");
    expect(status(got.raw)).toStartWith("Yes");
  });

  test("spam.reject_score: at or above it SMTP answers 550 5.7.1 and nothing is stored", async () => {
    srv.ctx.config.spam.rejectScore = 500;
    try {
      const spam = message({ body: `${GTUBE}\r\n` });
      const r = await swaks(spam);
      expect(r.stdout).toMatch(/<\*\* +550 5\.7\.1 Message rejected as spam \(score 10\d\d\.\d\)/);
      await expect(landed(BOB, spam)).rejects.toThrow("not delivered");
      const ham = message();
      expect((await swaks(ham)).stdout).toContain("<-  250 2.0.0 Ok");
      expect((await landed(BOB, ham)).folder).toBe("INBOX");
    } finally {
      srv.ctx.config.spam.rejectScore = null;
    }
  });

  test("DNS lists (dnsmasq): the IP list's 127.0.0.2 and the domain list count, Spamhaus's 127.255.255.x error does not", async () => {
    const m = message({ body: "Cheap watches at http://spammy-shop.xyz/offer and http://www.example.org/\r\n" });
    // From 127.0.0.2, the RFC 5782 test point every list lists.
    expect((await swaks(m, { localIp: "127.0.0.2" })).stdout).toContain("<-  250 2.0.0 Ok");
    const got = await landed(BOB, m);
    const st = status(got.raw)!;
    expect(st).toContain("RBL_BL_TEST");
    expect(st).toContain("DBL_DBL_TEST");
    expect(st).not.toContain("ERRLIST");
    // 3.0 + 2.5 and the small SPF/DMARC-less rest: junk.
    expect(got.folder).toBe("Junk");
    // From 127.0.0.1 (loopback, never looked up) the same text is not listed by IP.
    const m2 = message({ body: "A normal note about http://www.example.org/\r\n" });
    await swaks(m2);
    expect(status((await landed(BOB, m2)).raw)).not.toContain("RBL_");
  });
});

describe("allow and deny lists", () => {
  test("an allow entry beats the heuristics for an SPF-authenticated sender only; a forged From stays junk", async () => {
    const account = (await srv.store.getAccount(BOB))!;
    const entry = await srv.ctx.storage.spam.addEntry({ accountId: account.id }, "allow", "friend@friend.test");
    try {
      const real = message({ from: "Friend <friend@friend.test>", body: `${GTUBE}\r\n` });
      expect((await swaks(real, { from: "friend@friend.test" })).stdout).toContain("<-  250 2.0.0 Ok");
      const got = await landed(BOB, real);
      expect(got.raw).toMatch(/Authentication-Results: mail\.pillarbox\.test;[^]*spf=pass/);
      expect(got.folder).toBe("INBOX");
      expect(status(got.raw)).toMatch(/^No, .*USER_IN_ALLOWLIST/);

      // Same From, but the envelope is someone else's and nothing proves the From: the allow entry does not apply.
      const forged = message({ from: "Friend <friend@friend.test>", body: `${GTUBE}\r\n` });
      expect((await swaks(forged, { from: "mallory@other.test" })).stdout).toContain("<-  250 2.0.0 Ok");
      const f = await landed(BOB, forged);
      expect(f.folder).toBe("Junk");
      expect(status(f.raw)).not.toContain("USER_IN_ALLOWLIST");
    } finally {
      await srv.ctx.storage.spam.removeEntry({ accountId: account.id }, entry.id);
    }
  });

  test("a domain's deny entry junks a clean message for that domain's accounts", async () => {
    const entry = await srv.ctx.storage.spam.addEntry({ domain: "spam.test" }, "deny", "pest.test");
    try {
      const m = message({ from: "Pest <news@mail.pest.test>" });
      expect((await swaks(m, { from: "news@mail.pest.test", to: CAROL })).stdout).toContain("<-  250 2.0.0 Ok");
      const got = await landed(CAROL, m);
      expect(got.folder).toBe("Junk");
      expect(status(got.raw)).toMatch(/^Yes, .*USER_IN_DENYLIST/);
    } finally {
      await srv.ctx.storage.spam.removeEntry({ domain: "spam.test" }, entry.id);
    }
  });
});

describe("greylisting", () => {
  test("a new triplet gets 451 4.7.1; a retry after the delay is accepted", async () => {
    srv.ctx.config.spam.greylisting = true;
    srv.ctx.config.spam.greylistDelaySeconds = 1;
    try {
      const m = message();
      const first = await swaks(m, { from: "grey@remote-grey.test" });
      expect(first.stdout).toMatch(/<\*\* +451 4\.7\.1 Greylisted/);
      // Retry like an MTA until accepted (state, not a fixed sleep); the first retries may still be early.
      let tries = 0;
      await waitFor(async () => {
        tries++;
        const r = await swaks(m, { from: "grey@remote-grey.test" });
        return r.stdout.includes("<-  250 2.0.0 Ok");
      }, 20_000, 300);
      expect(tries).toBeGreaterThanOrEqual(1);
      expect((await landed(BOB, m)).folder).toBe("INBOX");
      // Once passed, the triplet passes at once.
      const again = message();
      expect((await swaks(again, { from: "grey@remote-grey.test" })).stdout).toContain("<-  250 2.0.0 Ok");
    } finally {
      srv.ctx.config.spam.greylisting = false;
    }
  });
});

describe("hostile messages are bounded and delivered", () => {
  test("5,000 encoded words in a folded Subject", async () => {
    const words = Array.from({ length: 5_000 }, (_, i) => `=?utf-8?q?w${i}?=`).join("\r\n ");
    const m = message({ subject: words });
    const started = Date.now();
    const r = await swaks(m);
    console.log(`encoded-word flood (${m.length} octets) delivered in ${Date.now() - started} ms`);
    expect(r.stdout).toContain("<-  250 2.0.0 Ok");
    expect(status((await landed(BOB, m)).raw)).toContain("ENCODED_WORD_FLOOD");
  }, 60_000);

  test("a header field over 128 KB (50,000 folded encoded words) is refused at DATA, not parsed", async () => {
    const words = Array.from({ length: 50_000 }, (_, i) => `=?utf-8?q?w${i}?=`).join("\r\n ");
    const m = message({ subject: words });
    const r = await swaks(m);
    expect(r.stdout).toContain("<** 552 5.3.4");
    expect(r.stdout).toContain("header field is longer than 128 KB");
  }, 60_000);

  test("a MIME tree of 5,000 parts with executable attachments", async () => {
    const parts: string[] = [];
    for (let i = 0; i < 5000; i++) parts.push(`--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="invoice${i}.pdf.exe"\r\n\r\nTVqQ\r\n`);
    const body = `This is a multipart message\r\n${parts.join("")}--b--\r\n`;
    const m = message({ body }).replace("Content-Type: text/plain; charset=utf-8", 'Content-Type: multipart/mixed; boundary="b"');
    const r = await swaks(m);
    expect(r.stdout).toContain("<-  250 2.0.0 Ok");
    const st = status((await landed(BOB, m)).raw)!;
    expect(st).toContain("EXECUTABLE_ATTACHMENT");
    expect(st).toContain("DOUBLE_EXTENSION");
    expect(st).toContain("MIME_TOO_MANY_PARTS");
  }, 60_000);
});

test("submission is never scored", async () => {
  const m = message({ from: BOB, to: CAROL, body: `${GTUBE}\r\n` });
  const file = join(dir, "sub.eml");
  writeFileSync(file, m.slice(0, -2));
  const r = await run("swaks", ["--server", `127.0.0.1:${srv.port("SUBMISSION")}`, "-tls", "--auth", "PLAIN", "--auth-user", BOB, "--auth-password", PASS, "--from", BOB, "--to", CAROL, "--data", file], { timeoutMs: 30_000 });
  expect(r.stdout).toContain("<~  250 2.0.0 Ok");
  const got = await landed(CAROL, m);
  expect(got.folder).toBe("INBOX");
  expect(got.raw).not.toContain("X-Spam-Status");
});

test("submission refuses a header field folded into more than 5,000 lines before DKIM signing (552 5.3.4)", async () => {
  const subject = Array.from({ length: 6_000 }, (_, i) => `w${i}`).join("\r\n ");
  const m = message({ from: BOB, to: CAROL, subject });
  const file = join(dir, "sub-folded.eml");
  writeFileSync(file, m.slice(0, -2));
  const r = await run("swaks", ["--server", `127.0.0.1:${srv.port("SUBMISSION")}`, "-tls", "--auth", "PLAIN", "--auth-user", BOB, "--auth-password", PASS, "--from", BOB, "--to", CAROL, "--data", file], { timeoutMs: 30_000 });
  expect(r.stdout).toContain("<~* 552 5.3.4");
  expect(r.stdout).toContain("folded into more than 5000 lines");
});
