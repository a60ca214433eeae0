/**
 * IMAP COMPRESS=DEFLATE (RFC 4978) under attack and at the end of a session
 * (issue 13 items 2 and 17):
 *  - inflation stops while the session does not read: deflated commands sent
 *    behind a FETCH the client never reads stay compressed in the socket
 *    instead of filling the command buffer;
 *  - a decompression bomb (100 MB without a newline) is refused with BYE and
 *    the connection closed, whether it arrives at once or behind a blocked FETCH;
 *  - the last replies (BYE, tagged OK) go through the deflater before the
 *    connection ends: LOGOUT, too many bad commands, server shutdown; over
 *    IMAPS the TLS session ends with close_notify (python3 raw socket + ssl).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createDeflateRaw, createInflateRaw, deflateRawSync, constants as zc } from "node:zlib";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { run, spawnBackground } from "../helpers/proc.ts";
import { RawImap } from "./client.ts";
import { imapSessions } from "../../protocols/imap/index.ts";
import type { Session } from "../../protocols/imap/session.ts";

let srv: TestServer;
let port = 0;
const USER = "zed@compress.test";
const PASS = "zed-secret";
let accountId = 0;

/** Inflated input the server may hold for one connection while it is not reading (command buffer + inflater). */
const INPUT_BOUND = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A message of incompressible text (base64 of random bytes), about `size` octets. */
function bigMessage(i: number, size: number): Uint8Array {
  const b64 = randomBytes(Math.ceil((size * 3) / 4)).toString("base64");
  const lines = b64.match(/.{1,76}/g)!.join("\r\n");
  return new TextEncoder().encode(`From: a@compress.test\r\nTo: ${USER}\r\nSubject: big ${i}\r\nMessage-ID: <big${i}@compress.test>\r\n\r\n${lines}\r\n`);
}

/** A logged-in client that has switched to COMPRESS=DEFLATE; returns the raw socket and both zlib streams. */
async function compressedClient(): Promise<{ c: RawImap; text: () => string; session: Session; send: (s: string | Uint8Array) => void }> {
  const before = new Set(imapSessions(srv.ctx));
  const { c } = await RawImap.connect(port);
  expect((await c.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
  expect((await c.cmd("COMPRESS DEFLATE")).status).toBe("OK");
  const session = imapSessions(srv.ctx).find((s) => !before.has(s))!;
  expect(session).toBeDefined();
  const def = createDeflateRaw();
  const inf = createInflateRaw();
  const sock = c.sock;
  sock.removeAllListeners("data");
  let text = "";
  inf.on("data", (d: Buffer) => {
    // keep only the tail: a big FETCH is many megabytes
    text = (text + d.toString("latin1")).slice(-64 * 1024);
  });
  inf.on("error", () => {});
  sock.on("data", (d: Buffer) => inf.write(d));
  def.on("data", (d: Buffer) => sock.write(d));
  const send = (s: string | Uint8Array) => {
    def.write(s);
    def.flush(zc.Z_SYNC_FLUSH);
  };
  return { c, text: () => text, session, send };
}

async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(10);
  }
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP", "IMAPS"], config: { limits: { authFailuresPerIp: 1000 } } });
  port = srv.port("IMAP");
  accountId = (await createUser(srv.store, USER, PASS)).id;
  await srv.store.createFolder(accountId, "Big");
  // 12 MB of incompressible mail: its FETCH fills the socket buffers of a client that does not read
  for (let i = 0; i < 12; i++) await srv.store.deliver(bigMessage(i, 1024 * 1024), [{ accountId, folder: "Big" }]);
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

describe("COMPRESS input is inflated only as the session reads it", () => {
  test("deflated commands sent behind a FETCH the client never reads stay compressed (buffered input stays bounded)", async () => {
    const { c, send, session } = await compressedClient();
    send("s1 SELECT Big\r\n");
    await waitFor(() => session.state === "selected", "SELECT");
    c.sock.pause(); // the client stops reading
    send("f1 FETCH 1:* BODY.PEEK[]\r\n");
    await waitFor(() => session.unsentOutput() > 64 * 1024, "the FETCH to back up");
    // ~1.5 MB of deflated pipelined commands (about 15 MB once inflated)
    const lines: string[] = [];
    for (let i = 0; i < 650_000; i++) lines.push(`n${i} NOOP\r\n`);
    const raw = Buffer.from(lines.join(""), "latin1");
    const compressedSize = deflateRawSync(raw).length;
    expect(compressedSize).toBeGreaterThan(1_000_000);
    send(raw);
    let max = 0;
    for (let i = 0; i < 60 && !session.isClosed; i++) {
      max = Math.max(max, session.inputBuffered);
      if (max > INPUT_BOUND) break;
      await sleep(25);
    }
    console.log(`compress: ${raw.length} bytes of commands (${compressedSize} deflated) behind a blocked FETCH; largest buffered input ${max} bytes`);
    expect(max).toBeLessThanOrEqual(INPUT_BOUND);
    c.close();
    await waitFor(() => !imapSessions(srv.ctx).includes(session), "the session to be released");
  }, 60_000);

  test("a decompression bomb (100 MB without a newline) is refused with BYE and the connection closes", async () => {
    const { c, send, text, session } = await compressedClient();
    // 100 MB of "A" deflate to about 100 KB
    send("b1 NOOP ");
    for (let i = 0; i < 100; i++) send(Buffer.alloc(1024 * 1024, 65));
    let max = 0;
    await waitFor(() => {
      max = Math.max(max, session.inputBuffered);
      return c.closed;
    }, "the server to close the connection");
    console.log(`compress: 100 MB bomb; largest buffered input ${max} bytes`);
    expect(max).toBeLessThanOrEqual(INPUT_BOUND);
    await waitFor(() => text().includes("* BYE"), "the BYE", 2000).catch(() => {});
    expect(text()).toMatch(/\* BYE [^\r\n]*\r\n$/);
  }, 60_000);

  test("a bomb behind a blocked FETCH is not inflated until the session reads; then it is refused with BYE", async () => {
    const { c, send, text, session } = await compressedClient();
    send("s1 SELECT Big\r\n");
    await waitFor(() => session.state === "selected", "SELECT");
    c.sock.pause();
    send("f1 FETCH 1:* BODY.PEEK[]\r\n");
    await waitFor(() => session.unsentOutput() > 64 * 1024, "the FETCH to back up");
    send("b1 NOOP ");
    for (let i = 0; i < 100; i++) send(Buffer.alloc(1024 * 1024, 65));
    let max = 0;
    for (let i = 0; i < 60; i++) {
      max = Math.max(max, session.inputBuffered);
      if (max > INPUT_BOUND) break;
      await sleep(25);
    }
    expect(max).toBeLessThanOrEqual(INPUT_BOUND);
    // now the client reads: the FETCH completes, then the bomb line is refused
    c.sock.resume();
    await waitFor(() => {
      max = Math.max(max, session.inputBuffered);
      return c.closed;
    }, "the server to close the connection", 30_000);
    console.log(`compress: 100 MB bomb behind a blocked FETCH; largest buffered input ${max} bytes`);
    expect(max).toBeLessThanOrEqual(INPUT_BOUND);
    await waitFor(() => text().includes("* BYE"), "the BYE", 2000).catch(() => {});
    expect(text()).toContain("f1 OK");
    expect(text()).toMatch(/\* BYE [^\r\n]*\r\n$/);
  }, 60_000);
});

describe("COMPRESS: the last replies are flushed through the deflater", () => {
  test("too many bad commands: the BYE arrives compressed before the close", async () => {
    const { c, send, text } = await compressedClient();
    let cmds = "";
    for (let i = 0; i < 25; i++) cmds += `x${i} BOGUS\r\n`;
    send(cmds);
    await waitFor(() => c.closed, "the server to close the connection");
    await sleep(50);
    expect(text()).toContain("* BYE Too many invalid commands.\r\n");
  });

  const PY = String.raw`
import socket, ssl, sys, zlib, json
port, mode = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20))
buf = b""
def until(tag):
    global buf
    while (b"\r\n" + tag + b" ") not in (b"\r\n" + buf):
        d = s.recv(65536)
        if not d:
            raise SystemExit("closed early: %r" % buf)
        buf += d
    i = (b"\r\n" + buf).index(b"\r\n" + tag + b" ")
    j = buf.index(b"\r\n", i)
    line = buf[i:j]
    buf = buf[j + 2:]
    return line
until(b"*")
s.sendall(b"a1 LOGIN ${USER} ${PASS}\r\n"); assert b"OK" in until(b"a1")
s.sendall(b"a2 COMPRESS DEFLATE\r\n"); assert b"OK" in until(b"a2")
assert buf == b"", buf
d = zlib.compressobj(6, zlib.DEFLATED, -15)
inf = zlib.decompressobj(-15)
if mode == "logout":
    s.sendall(d.compress(b"a3 NOOP\r\na4 LOGOUT\r\n") + d.flush(zlib.Z_SYNC_FLUSH))
else:
    s.sendall(d.compress(b"a3 NOOP\r\n") + d.flush(zlib.Z_SYNC_FLUSH))
text = b""
if mode == "shutdown":
    while b"a3 OK" not in text:
        text += inf.decompress(s.recv(65536))
    print("READY", flush=True)
eof = "clean"
while True:
    try:
        data = s.recv(65536)
    except ssl.SSLError as e:
        eof = "ssl error: " + str(e)
        break
    if not data:
        break
    text += inf.decompress(data)
print(json.dumps({"text": text.decode("latin1"), "eof": eof}), flush=True)
`;

  test("LOGOUT after COMPRESS over IMAPS returns * BYE and the tagged OK, then TLS close_notify (python3)", async () => {
    const r = await run("python3", ["-c", PY, String(srv.port("IMAPS")), "logout"], { timeoutMs: 30_000 });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { text: string; eof: string };
    expect(out.text).toContain("a3 OK");
    expect(out.text).toContain("* BYE Logging out\r\na4 OK Logout completed.\r\n");
    expect(out.eof).toBe("clean");
  });

  test("server shutdown sends * BYE through the deflater, then TLS close_notify (python3)", async () => {
    const s2 = await startTestServer({ listeners: ["IMAPS"] });
    try {
      await createUser(s2.store, USER, PASS);
      const py = spawnBackground("python3", ["-c", PY, String(s2.port("IMAPS")), "shutdown"]);
      await py.waitFor(/READY/, 20_000);
      await waitFor(() => imapSessions(s2.ctx).some((s) => s.compressed), "the session to compress");
      await s2.close();
      await py.exited;
      const out = JSON.parse(py.stdout().trim().split("\n").pop()!) as { text: string; eof: string };
      expect(out.text).toContain("a3 OK");
      expect(out.text).toContain("* BYE Server shutting down.\r\n");
      expect(out.eof).toBe("clean");
    } finally {
      await s2.close().catch(() => {});
    }
  });
});
