/**
 * Outbound SMTP smuggling (issue 13 item 8, the CVE-2023-51766 class) and
 * outbound line folding (issue 13 item 16, outbound half).
 *
 * A message that reached Pillarbox with a bare CR or bare LF next to a "."
 * (`\r.\r`, `\r.\r\n`, `\n.\n`, `\n.\r\n`) is stored as received. When it is
 * forwarded, a next hop that accepts any of those as an end of data would
 * see a second, smuggled message from our IP. Everything we send onward must
 * therefore use CRLF only (Postfix writes per line and always emits CRLF).
 *
 * The next hop here is a capturing raw-socket SMTP peer (./sink.ts) found
 * through an MX record served by dnsmasq. The message goes in over DATA and
 * over BDAT (CHUNKING) to a forwarding alias; the peer must receive exactly
 * one message per input, with no bare CR or LF, no lax end of data, and no
 * second MAIL FROM.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { toSmtpData } from "../../src/delivery/smtp-data.ts";
import { kickQueues } from "../../src/delivery/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { ehloSession, startDnsmasq, waitFor, type Dnsmasq } from "./helpers.ts";
import { bareLineEnds, laxEndsOfData, startSink, type Sink, type SinkTransaction } from "./sink.ts";

setDefaultTimeout(60_000);

let dns: Dnsmasq;
let sink: Sink;
let srv: TestServer;

beforeAll(async () => {
  sink = await startSink();
  dns = await startDnsmasq({ mx: [["sink.test", "mx.sink.test", 10]], hosts: [["mx.sink.test", "127.0.0.1"]] });
  srv = await startTestServer({
    listeners: ["SMTP"],
    config: { queue: { dnsServers: [dns.server], remotePort: sink.port } },
  });
  await createUser(srv.store, "alice@example.test", "pw-smuggle");
  await srv.store.addAlias("fwd@example.test", "dest@sink.test");
});

afterAll(async () => {
  await srv?.close();
  await sink?.close();
  await dns?.stop();
});

const SEQUENCES: [string, string][] = [
  ["\\r.\\r", "\r.\r"],
  ["\\r.\\r\\n", "\r.\r\n"],
  ["\\n.\\n", "\n.\n"],
  ["\\n.\\r\\n", "\n.\r\n"],
];

/** A body that, to a lax next hop, ends the message at `seq` and starts a second one. */
function smugglingMessage(subject: string, seq: string): string {
  return (
    `From: alice@example.test\r\nTo: fwd@example.test\r\nSubject: ${subject}\r\n\r\n` +
    `first part${seq}` +
    "MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<victim@sink.test>\r\nDATA\r\n" +
    "From: ceo@bank.test\r\nSubject: smuggled\r\n\r\nwire the money\r\n"
  );
}

async function sendData(subject: string, raw: string): Promise<void> {
  const c = await ehloSession(srv.port("SMTP"), "sender.example");
  expect((await c.cmd("MAIL FROM:<someone@sender.example>")).code).toBe(250);
  expect((await c.cmd("RCPT TO:<fwd@example.test>")).code).toBe(250);
  expect((await c.cmd("DATA")).code).toBe(354);
  c.write(raw + "\r\n.\r\n");
  const r = await c.read();
  expect(r?.code).toBe(250);
  c.close();
}

async function sendBdat(subject: string, raw: string): Promise<void> {
  const c = await ehloSession(srv.port("SMTP"), "sender.example");
  expect((await c.cmd("MAIL FROM:<someone@sender.example>")).code).toBe(250);
  expect((await c.cmd("RCPT TO:<fwd@example.test>")).code).toBe(250);
  const bytes = Buffer.from(raw, "latin1");
  // two chunks, split right inside the smuggling sequence (or in the middle), to cover chunk boundaries too
  const marker = raw.indexOf("first part");
  const cut = marker >= 0 ? marker + "first part".length + 1 : raw.length >> 1;
  c.write(`BDAT ${cut}\r\n`);
  c.write(bytes.subarray(0, cut));
  expect((await c.read())?.code).toBe(250);
  c.write(`BDAT ${bytes.length - cut} LAST\r\n`);
  c.write(bytes.subarray(cut));
  const r = await c.read();
  expect(r?.code).toBe(250);
  c.close();
}

function received(subject: string): SinkTransaction[] {
  return sink.transactions.filter((t) => t.wire.includes(`Subject: ${subject}\r\n`));
}

function assertClean(t: SinkTransaction): void {
  expect(bareLineEnds(t.wire)).toEqual([]);
  expect(laxEndsOfData(t.wire)).toEqual([]);
  // RFC 5321 §4.5.3.1.6: no line over 998 octets plus CRLF
  for (const line of t.wire.toString("latin1").split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
}

describe("item 8: what we relay onward uses CRLF only", () => {
  for (const transport of ["DATA", "BDAT"] as const) {
    for (const [label, seq] of SEQUENCES) {
      test(`${transport}: ${label} in a message to a forwarding alias reaches the next hop as one clean message`, async () => {
        const subject = `smuggle ${transport} ${label}`;
        const raw = smugglingMessage(subject, seq);
        const before = sink.commands.filter((l) => /^MAIL FROM:/i.test(l)).length;
        if (transport === "DATA") await sendData(subject, raw);
        else await sendBdat(subject, raw);
        const got = await waitFor(() => (received(subject).length ? received(subject) : null));
        await waitFor(async () => (await srv.store.listQueue()).length === 0);
        expect(got.length).toBe(1);
        const t = got[0]!;
        assertClean(t);
        // Exactly one MAIL FROM went to the peer for this message, and it is ours.
        const mails = sink.commands.filter((l) => /^MAIL FROM:/i.test(l));
        expect(mails.length).toBe(before + 1);
        expect(mails[mails.length - 1]).toStartWith("MAIL FROM:<someone@sender.example>");
        expect(sink.commands.some((l) => l.includes("ceo@bank.test"))).toBe(false);
        // The text is still there, as ordinary body lines.
        expect(t.wire.toString("latin1")).toContain("first part\r\n");
        expect(t.wire.toString("latin1")).toContain("\r\nMAIL FROM:<ceo@bank.test>\r\n");
      });
    }
  }

  test("a queued message with bare CR and LF everywhere (headers, body, end) goes out canonical", async () => {
    const raw = "From: alice@example.test\rSubject: bare ends queued\nX-Mixed: a\r\r\nb\n\r\nbody\r.\rline\n.\nend\r";
    await srv.store.enqueue({ sender: "alice@example.test", recipients: ["dest@sink.test"], raw: new TextEncoder().encode(raw) });
    kickQueues();
    const got = await waitFor(() => {
      const t = sink.transactions.filter((x) => x.wire.includes("bare ends queued"));
      return t.length ? t : null;
    });
    await waitFor(async () => (await srv.store.listQueue()).length === 0);
    expect(got.length).toBe(1);
    assertClean(got[0]!);
    // each bare CR/LF became one CRLF; a "." line is dot-stuffed
    expect(got[0]!.wire.toString("latin1")).toBe("From: alice@example.test\r\nSubject: bare ends queued\r\nX-Mixed: a\r\n\r\nb\r\n\r\nbody\r\n..\r\nline\r\n..\r\nend\r\n");
  });
});

describe("item 16 (outbound): lines over 998 octets are folded when relaying", () => {
  test("a long header line and a long body line are broken with CRLF SP at 998 octets, as Postfix's smtp_line_length_limit does", async () => {
    const longHeader = "X-Long: " + "h".repeat(2500);
    const longBody = "." + "b".repeat(2200); // starts with a dot: stuffed, and the stuffed dot counts
    const raw = `From: alice@example.test\r\nSubject: long lines\r\n${longHeader}\r\n\r\n${longBody}\r\nshort\r\n`;
    await srv.store.enqueue({ sender: "alice@example.test", recipients: ["dest@sink.test"], raw: new TextEncoder().encode(raw) });
    kickQueues();
    const got = await waitFor(() => {
      const t = sink.transactions.filter((x) => x.wire.includes("Subject: long lines"));
      return t.length ? t : null;
    });
    await waitFor(async () => (await srv.store.listQueue()).length === 0);
    expect(got.length).toBe(1);
    const t = got[0]!;
    assertClean(t);
    const lines = t.wire.toString("latin1").split("\r\n");
    const h = lines.indexOf(lines.find((l) => l.startsWith("X-Long: "))!);
    // header: folded into continuation lines (RFC 5322 §2.2.3), unfolding gives the value back with the inserted spaces
    expect(lines[h]!.length).toBe(998);
    expect(lines[h + 1]!.startsWith(" ")).toBe(true);
    expect(lines[h + 2]!.startsWith(" ")).toBe(true);
    expect((lines[h]! + lines[h + 1]!.slice(1) + lines[h + 2]!.slice(1)).length).toBe(longHeader.length);
    // body: the dot-stuffed first piece is 998 octets; the rest continues after CRLF SP
    const b = lines.findIndex((l) => l.startsWith(".."));
    expect(lines[b]!.length).toBe(998);
    expect(lines[b + 1]!.startsWith(" ")).toBe(true);
    expect(lines[b]!.slice(1) + lines[b + 1]!.slice(1) + lines[b + 2]!.slice(1)).toBe(longBody);
    expect(lines[b + 3]).toBe("short");
    // SIZE announced the canonical size (without the stuffed dot and the terminator)
    const mail = sink.commands.filter((l) => /^MAIL FROM:/i.test(l)).pop()!;
    expect(mail).toContain(` SIZE=${t.wire.length - 1}`);
  });

  test("end to end: a 3,000-octet HTML line received over DATA and over BDAT is relayed to the forwarding alias folded", async () => {
    const html = "<p>" + "word ".repeat(600) + "</p>"; // 3,007 octets on one line
    for (const transport of ["DATA", "BDAT"] as const) {
      const subject = `long line ${transport}`;
      const raw = `From: someone@sender.example\r\nTo: fwd@example.test\r\nSubject: ${subject}\r\nContent-Type: text/html\r\n\r\n${html}\r\n`;
      if (transport === "DATA") await sendData(subject, raw.slice(0, -2));
      else await sendBdat(subject, raw);
      const got = await waitFor(() => (received(subject).length ? received(subject) : null));
      await waitFor(async () => (await srv.store.listQueue()).length === 0);
      expect(got.length).toBe(1);
      assertClean(got[0]!);
      const lines = got[0]!.wire.toString("latin1").split("\r\n");
      const i = lines.findIndex((l) => l.startsWith("<p>"));
      expect(lines[i]!.length).toBe(998);
      // unfolding (drop each CRLF SP) gives the line back
      expect(lines[i] + lines[i + 1]!.slice(1) + lines[i + 2]!.slice(1) + lines[i + 3]!.slice(1)).toBe(html);
    }
  });
});

describe("the DATA encoder, on arbitrary bytes", () => {
  // Bytes that matter: CR, LF, ".", a 2-byte UTF-8 character, and runs long enough to fold. No
  // spaces, so that a leading space on the wire can only be a fold the encoder inserted.
  const piece = fc.oneof(
    fc.constantFrom("\r", "\n", "\r\n", ".", "a", "\u00e9"),
    fc.integer({ min: 990, max: 2100 }).map((k) => "x".repeat(k)),
    fc.integer({ min: 300, max: 700 }).map((k) => "\u00e9".repeat(k)),
  );
  test("property: CRLF only, lines of at most 998 octets, no end of data before the last, UTF-8 never split, nothing lost", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const raw = Buffer.from(pieces.join(""), "utf8");
        const { data, size } = toSmtpData(raw);
        const wire = data.toString("latin1");
        if (!(wire === ".\r\n" || wire.endsWith("\r\n.\r\n"))) return false;
        const body = data.subarray(0, data.length - 3);
        if (bareLineEnds(body).length || laxEndsOfData(body).length) return false;
        const lines = body.toString("latin1").split("\r\n").slice(0, -1);
        if (lines.some((l) => l.length > 998)) return false;
        // every wire line is valid UTF-8 on its own: no character was cut in two
        if (body.toString("utf8").includes("\ufffd")) return false;
        // undo: a leading space continues the previous line (unfold), a leading "." was stuffed
        const logical: string[] = [];
        let stuffed = 0;
        for (const l of lines) {
          if (l.startsWith(" ")) logical[logical.length - 1] += l.slice(1);
          else if (l.startsWith(".")) {
            stuffed++;
            logical.push(l.slice(1));
          } else logical.push(l);
        }
        if (size !== body.length - stuffed) return false;
        const canonical = raw.toString("latin1").replace(/\r\n|\r|\n/g, "\n").split("\n");
        if (canonical[canonical.length - 1] === "") canonical.pop();
        return logical.join("\n") === canonical.join("\n");
      }),
      { numRuns: 300 },
    );
  });
});
