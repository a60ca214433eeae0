/**
 * Issue 13 item 18: IMAP ordering and a SEARCH race, over real sockets.
 *  a) a FETCH showing a keyword another session just created comes after
 *     the `* FLAGS` (and PERMANENTFLAGS) update announcing it (RFC 9051
 *     §7.3.5, RFC 3501 §7.2.6);
 *  b) a message another session expunged still exists for this session
 *     until it is told with EXPUNGE, so SEARCH/ESEARCH/SORT still match it
 *     (RFC 9051 §7.5.1, §7.4.1);
 *  c) URLFETCH with (BINARY BODYPARTSTRUCTURE) answers two items, the
 *     structure describing the decoded form (RFC 5524 §3, §5).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawImap } from "./client.ts";
import "../../protocols/imap/index.ts";

let srv: TestServer;
let port = 0;
const USER = "olga@order.test";
const PASS = "olga-secret";
let accountId = 0;

const enc = new TextEncoder();
function msg(i: number, body = `body of ${i}\r\n`, extra = ""): Uint8Array {
  return enc.encode(`From: Bob <bob@example.org>\r\nTo: Olga <olga@order.test>\r\nSubject: m${i}\r\nDate: Mon, 1 Jan 2024 10:0${i % 10}:00 +0000\r\nMessage-ID: <o${i}@example.org>\r\n${extra}\r\n${body}`);
}

async function login(): Promise<RawImap> {
  const { c } = await RawImap.connect(port);
  expect((await c.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
  return c;
}

async function folderWith(name: string, n: number): Promise<number> {
  await srv.store.createFolder(accountId, name);
  const f = await srv.store.getFolder(accountId, name);
  for (let i = 1; i <= n; i++) await srv.store.append(f!.id, [{ raw: msg(i) }]);
  return f!.id;
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"], config: { limits: { authFailuresPerIp: 1000 } } });
  port = srv.port("IMAP");
  accountId = (await createUser(srv.store, USER, PASS)).id;
});

afterAll(async () => {
  await srv?.close();
});

/** Index of the first untagged line matching `re`, or -1. */
function at(lines: string[], re: RegExp): number {
  return lines.findIndex((l) => re.test(l));
}

describe("a) FLAGS before a FETCH that shows a new keyword", () => {
  const variants: [string, RegExp][] = [
    ["FETCH 1 FLAGS", /^\* 1 FETCH \(FLAGS \([^)]*\$Fresh1/],
    ["UID FETCH 1 FLAGS", /^\* 1 FETCH \(.*FLAGS \([^)]*\$Fresh2/],
    ["FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])", /^\* 1 FETCH \(FLAGS \([^)]*\$Fresh3/],
    ["FETCH 1 FAST", /^\* 1 FETCH \(FLAGS \([^)]*\$Fresh4/],
  ];
  test.each(variants.map((v, i) => [i + 1, ...v] as const))("keyword %i: %s", async (k, command, fetchRe) => {
    const box = `Kw${k}`;
    await folderWith(box, 2);
    const a = await login();
    const b = await login();
    expect((await a.cmd(`SELECT ${box}`)).status).toBe("OK");
    expect((await b.cmd(`SELECT ${box}`)).status).toBe("OK");
    expect((await b.cmd(`STORE 1 +FLAGS ($Fresh${k})`)).status).toBe("OK");
    const r = await a.cmd(command);
    expect(r.status).toBe("OK");
    const flags = at(r.untagged, new RegExp(`^\\* FLAGS \\(.*\\$Fresh${k}`));
    const perm = at(r.untagged, new RegExp(`^\\* OK \\[PERMANENTFLAGS \\(.*\\$Fresh${k}`));
    const fetch = at(r.untagged, fetchRe);
    expect({ untagged: r.untagged, fetch: fetch >= 0 }).toEqual({ untagged: r.untagged, fetch: true });
    expect({ untagged: r.untagged, flagsBeforeFetch: flags >= 0 && flags < fetch }).toEqual({ untagged: r.untagged, flagsBeforeFetch: true });
    expect(perm >= 0 && perm < fetch).toBe(true);
    a.close();
    b.close();
  });

  test("STORE, NOOP and IDLE also announce the keyword before the FETCH that shows it", async () => {
    await folderWith("KwPaths", 3);
    const a = await login();
    const b = await login();
    await a.cmd("SELECT KwPaths");
    await b.cmd("SELECT KwPaths");
    const check = (lines: string[], kw: string, fetchRe: RegExp) => {
      const flags = at(lines, new RegExp(`^\\* FLAGS \\(.*\\${kw}`));
      const fetch = at(lines, fetchRe);
      expect({ lines, ok: fetch >= 0 && flags >= 0 && flags < fetch }).toEqual({ lines, ok: true });
    };
    // STORE by A on a message B just gave a new keyword
    await b.cmd("STORE 1 +FLAGS ($FreshStore)");
    const st = await a.cmd("STORE 1 +FLAGS (\\Flagged)");
    check(st.untagged, "$FreshStore", /^\* 1 FETCH \(FLAGS \([^)]*\$FreshStore/);
    // NOOP
    await b.cmd("STORE 2 +FLAGS ($FreshNoop)");
    const n = await a.cmd("NOOP");
    check(n.untagged, "$FreshNoop", /^\* 2 FETCH \(FLAGS \([^)]*\$FreshNoop/);
    // IDLE push
    a.write("I1 IDLE\r\n");
    expect(await a.line()).toStartWith("+");
    await b.cmd("STORE 3 +FLAGS ($FreshIdle)");
    const pushed: string[] = [];
    while (!pushed.some((l) => /^\* 3 FETCH/.test(l))) pushed.push(await a.line());
    check(pushed, "$FreshIdle", /^\* 3 FETCH \(FLAGS \([^)]*\$FreshIdle/);
    a.write("DONE\r\n");
    expect((await a.until("I1")).status).toBe("OK");
    a.close();
    b.close();
  });

  test("a FETCH that sets \\Seen on a message with another session's new keyword", async () => {
    await folderWith("KwSeen", 1);
    const a = await login();
    const b = await login();
    await a.cmd("SELECT KwSeen");
    await b.cmd("SELECT KwSeen");
    await b.cmd("STORE 1 +FLAGS ($FreshSeen)");
    const r = await a.cmd("FETCH 1 BODY[TEXT]");
    const flags = at(r.untagged, /^\* FLAGS \(.*\$FreshSeen/);
    const fetch = at(r.untagged, /^\* 1 FETCH \(/);
    expect(flags >= 0 && flags < fetch).toBe(true);
    a.close();
    b.close();
  });
});

describe("b) SEARCH still sees a message expunged by another session until EXPUNGE is sent", () => {
  test("SEARCH, ESEARCH, SORT, UID SEARCH before NOOP include message 3; NOOP then says * 3 EXPUNGE", async () => {
    await folderWith("Race", 5);
    const a = await login();
    const b = await login();
    expect((await a.cmd("SELECT Race")).status).toBe("OK");
    expect((await b.cmd("SELECT Race")).status).toBe("OK");
    await b.cmd("STORE 3 +FLAGS.SILENT (\\Deleted)");
    const ex = await b.cmd("EXPUNGE");
    expect(ex.untagged).toContain("* 3 EXPUNGE");

    const s1 = await a.cmd("SEARCH ALL");
    expect(s1.status).toBe("OK");
    expect(s1.untagged).toContain("* SEARCH 1 2 3 4 5");
    expect(s1.untagged.some((l) => l.endsWith("EXPUNGE"))).toBe(false);
    // what the session knows of message 3 (its flags) still matches
    const s2 = await a.cmd("SEARCH DELETED");
    expect(s2.untagged).toContain("* SEARCH 3");
    const s3 = await a.cmd("SEARCH 2:4");
    expect(s3.untagged).toContain("* SEARCH 2 3 4");
    const s4 = await a.cmd("SEARCH RETURN (COUNT MIN MAX) ALL");
    expect(s4.untagged.some((l) => /^\* ESEARCH \(TAG "[^"]+"\) MIN 1 MAX 5 COUNT 5$/.test(l))).toBe(true);
    const s5 = await a.cmd("SORT (ARRIVAL) UTF-8 ALL");
    expect(s5.untagged).toContain("* SORT 1 2 3 4 5");
    // its envelope is gone: it sorts by what is left, but it is still there
    const s5b = await a.cmd("SORT (SUBJECT) UTF-8 ALL");
    expect(s5b.untagged[0].split(" ").slice(2).map(Number).sort()).toEqual([1, 2, 3, 4, 5]);
    const t = await a.cmd("THREAD REFERENCES UTF-8 ALL");
    expect(t.status).toBe("OK");
    expect(t.untagged.find((l) => l.startsWith("* THREAD"))).toContain("(3)");
    // its text is gone with it: a text criterion does not match it (and it never breaks the search)
    const s6 = await a.cmd("SEARCH BODY body");
    expect(s6.status).toBe("OK");
    expect(s6.untagged).toContain("* SEARCH 1 2 4 5");

    // UID SEARCH may announce the expunge, but only after its own answer
    const u = await a.cmd("UID SEARCH ALL");
    const sIdx = u.untagged.findIndex((l) => l.startsWith("* SEARCH"));
    expect(u.untagged[sIdx]).toBe("* SEARCH 1 2 3 4 5");
    const eIdx = u.untagged.indexOf("* 3 EXPUNGE");
    let sawExpunge = eIdx >= 0;
    if (sawExpunge) expect(eIdx).toBeGreaterThan(sIdx);
    const n = await a.cmd("NOOP");
    if (!sawExpunge) sawExpunge = n.untagged.includes("* 3 EXPUNGE");
    expect(sawExpunge).toBe(true);
    const after = await a.cmd("SEARCH ALL");
    expect(after.untagged).toContain("* SEARCH 1 2 3 4");
    a.close();
    b.close();
  });
});

describe("c) URLFETCH (BINARY BODYPARTSTRUCTURE)", () => {
  test("two items: the decoded bytes and a structure of the decoded form", async () => {
    const bin = new Uint8Array(300);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7) & 0xff;
    const b64 = Buffer.from(bin).toString("base64").replace(/.{76}/g, "$&\r\n");
    const body =
      "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      b64 +
      "\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 au lait=\r\n and more\r\nline two\r\n--b1--\r\n";
    await srv.store.createFolder(accountId, "Urls");
    const f = await srv.store.getFolder(accountId, "Urls");
    const [ap] = await srv.store.append(f!.id, [{ raw: msg(1, body, 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n') }]);
    const a = await login();
    const rump = `imap://${USER}@order.test/Urls/;uid=${ap.uid}/;section=2;urlauth=authuser`;
    const g = await a.cmd(`GENURLAUTH "${rump}" INTERNAL`);
    expect(g.status).toBe("OK");
    const url = /^\* GENURLAUTH "(.*)"$/.exec(g.untagged[0])![1];

    const r = await a.cmd(`URLFETCH ("${url}" BINARY BODYPARTSTRUCTURE)`);
    expect(r.status).toBe("OK");
    const line = r.untagged.find((l) => l.startsWith("* URLFETCH"))!;
    const head = `* URLFETCH "${url}" `;
    expect(line.startsWith(head)).toBe(true);
    const rest = line.slice(head.length);
    // RFC 5524 §5: url-metadata = 1*(SP "(" url-metadata-el ")"), one element per parenthesis
    const m = /^\(BODYPARTSTRUCTURE (\(.*\))\) \(BINARY ~?\{(\d+)\}\r\n([\s\S]*)\)$/.exec(rest);
    expect(m).not.toBeNull();
    const [, structure, size, data] = m!;
    expect(Number(size)).toBe(bin.length);
    expect(Buffer.from(data, "latin1").equals(Buffer.from(bin))).toBe(true);
    // the structure describes what BINARY returned: decoded encoding and decoded size
    expect(structure).toMatch(new RegExp(`^\\("APPLICATION" "OCTET-STREAM" \\S+ NIL NIL "BINARY" ${bin.length}[ )]`));

    // a quoted-printable text part decodes to 8-bit text: "8BIT", decoded size and lines
    const rump3 = `imap://${USER}@order.test/Urls/;uid=${ap.uid}/;section=3;urlauth=authuser`;
    const url3 = /^\* GENURLAUTH "(.*)"$/.exec((await a.cmd(`GENURLAUTH "${rump3}" INTERNAL`)).untagged[0])![1];
    const r3 = await a.cmd(`URLFETCH ("${url3}" BODYPARTSTRUCTURE BINARY)`);
    const l3 = r3.untagged.find((l) => l.startsWith("* URLFETCH"))!.slice(`* URLFETCH "${url3}" `.length);
    // (the CRLF before the boundary belongs to the boundary, RFC 2046 §5.1.1)
    const decoded = Buffer.from("café au lait and more\r\nline two", "utf8");
    expect(l3).toStartWith(`(BODYPARTSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "8BIT" ${decoded.length} 1 `);
    expect(l3).toContain(`) (BINARY {${decoded.length}}\r\n`);

    // and BODY keeps the stored (encoded) form with the original structure
    const r2 = await a.cmd(`URLFETCH ("${url}" BODYPARTSTRUCTURE BODY)`);
    const l2 = r2.untagged.find((l) => l.startsWith("* URLFETCH"))!.slice(head.length);
    expect(l2).toMatch(/^\(BODYPARTSTRUCTURE \("APPLICATION" "OCTET-STREAM" \S+ NIL NIL "BASE64" \d+[ )].*\) \(BODY \{\d+\}\r\n/s);
    a.close();
  });
});
