/**
 * End to end, no outside client: a real server (HTTPS, SMTP, IMAP) and MAPI
 * over HTTP requests as Outlook sends them (tests/mapi/e2e-client.ts builds
 * the bodies from MS-OXCMAPIHTTP §2.2.4/§2.2.5 and MS-OXCROPS §2.2 with the
 * wire module's Writer). What the milestone promises:
 *  - EMSMDB Connect, Execute(RopLogon), Execute(RopOpenFolder Inbox,
 *    RopGetContentsTable, RopSetColumns, RopQueryRows) shows a message that
 *    arrived over SMTP;
 *  - NSPI Bind + QueryRows lists the directory's users;
 *  - a message made and submitted with ROPs (RopCreateMessage in the Outbox,
 *    RopSetProperties, RopModifyRecipients, RopSubmitMessage) arrives in the
 *    recipient's Inbox over IMAP;
 *  - Disconnect ends the session context (MS-OXCMAPIHTTP §3.2.5.5).
 */
import "../../protocols/index.ts";
import "../../protocols/imap/index.ts";
import "../../protocols/http/mapi/index.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { smtpSend } from "../reliability/lib/conn.ts";
import { RawImap } from "../imap/client.ts";
import type { Account } from "../../storage/api.ts";
import { legacyDn } from "../../protocols/http/mapi/identity.ts";
import { Reader } from "../../protocols/http/mapi/wire/reader.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";
import { readPropertyRow, writeTaggedValue } from "../../protocols/http/mapi/wire/propvalue.ts";
import { readAbRow, readStat, readTagArray, writeStat, writeTagArray } from "../../protocols/http/mapi/wire/nspi-values.ts";
import {
  FOLDER,
  MapiHttpClient,
  NEW_HANDLE,
  connectRequest,
  executeRequest,
  parseConnectResponse,
  parseExecuteResponse,
  readLogonResponse,
  readRopHead,
  ropLogon,
} from "./e2e-client.ts";

const PASS = "e2e-mapi-pass-1";
const EMSMDB = "/mapi/emsmdb/";
const NSPI = "/mapi/nspi/";
// MS-OXPROPS tags used below.
const PidTagSubject = 0x0037001f;
const PidTagMessageClass = 0x001a001f;
const PidTagMid = 0x674a0014;
const PidTagBody = 0x1000001f;
const PidTagDisplayName = 0x3001001f;
const PidTagSmtpAddress = 0x39fe001f;
const PidTagObjectType = 0x0ffe0003;
const PidTagDisplayType = 0x39000003;

let srv: TestServer;
let alice: Account;
let bob: Account;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["HTTP", "HTTPS", "SMTP", "SUBMISSION", "IMAP"] });
  alice = await createUser(srv.store, "alice@mapi.test", PASS, { displayName: "Alice Mapi" });
  bob = await createUser(srv.store, "bob@mapi.test", PASS, { displayName: "Bob Mapi" });
});

afterAll(async () => {
  await srv?.close();
});

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Connect + RopLogon for `acct`: the client, the logon handle and the 13 special folder ids. */
async function logon(acct: Account): Promise<{ c: MapiHttpClient; logonHandle: number; folderIds: bigint[] }> {
  const c = new MapiHttpClient(srv.port("HTTPS"), acct.email, PASS);
  const conn = await c.post(EMSMDB, "Connect", connectRequest(legacyDn(acct)));
  expect(conn.status).toBe(200);
  expect(conn.responseCode).toBe("0");
  expect(conn.preamble).toContain("DONE");
  const cr = parseConnectResponse(conn.body);
  expect(cr.statusCode).toBe(0);
  expect(cr.errorCode).toBe(0);
  const ex = await c.post(EMSMDB, "Execute", executeRequest(ropLogon(0, legacyDn(acct)), [NEW_HANDLE]));
  expect(ex.responseCode).toBe("0");
  const er = parseExecuteResponse(ex.body);
  expect(er.statusCode).toBe(0);
  expect(er.errorCode).toBe(0);
  const lr = readLogonResponse(new Reader(er.rops));
  expect(lr.returnValue).toBe(0);
  expect(lr.folderIds.length).toBe(13);
  expect(er.handles[0]).not.toBe(NEW_HANDLE);
  return { c, logonHandle: er.handles[0]!, folderIds: lr.folderIds };
}

describe("MAPI over HTTP end to end", () => {
  test("Connect, RopLogon, then the Inbox's contents table shows a message delivered over SMTP", async () => {
    const subject = `E2E over SMTP ${Math.random().toString(36).slice(2)}`;
    const data = `From: Bob <bob@mapi.test>\r\nTo: Alice <alice@mapi.test>\r\nSubject: ${subject}\r\nMessage-ID: <e2e-${Date.now()}@mapi.test>\r\n\r\nHello over MAPI.\r\n`;
    expect((await smtpSend({ port: srv.port("SMTP"), from: "bob@mapi.test", to: ["alice@mapi.test"], data })).code).toBe(250);
    const inbox = (await srv.store.getFolder(alice.id, "INBOX"))!;
    await waitFor(async () => (await srv.store.listMessages(inbox.id)).length > 0, "the SMTP delivery");

    const { c, logonHandle, folderIds } = await logon(alice);
    const columns = [PidTagSubject, PidTagMessageClass, PidTagMid];
    const rops = new Writer();
    rops.u8(0x02).u8(0).u8(0).u8(1).u64(folderIds[FOLDER.inbox]!).u8(0); // RopOpenFolder (§2.2.4.1.1)
    rops.u8(0x05).u8(0).u8(1).u8(2).u8(0); // RopGetContentsTable (§2.2.4.14.1)
    rops.u8(0x12).u8(0).u8(2).u8(0).u16(columns.length); // RopSetColumns (§2.2.5.1.1)
    for (const t of columns) rops.u32(t);
    rops.u8(0x15).u8(0).u8(2).u8(0).u8(1).u16(50); // RopQueryRows (§2.2.5.4.1), forward, 50 rows
    const ex = await c.post(EMSMDB, "Execute", executeRequest(rops.finish(), [logonHandle, NEW_HANDLE, NEW_HANDLE]));
    expect(ex.responseCode).toBe("0");
    const er = parseExecuteResponse(ex.body);
    expect(er.errorCode).toBe(0);
    const r = new Reader(er.rops);
    expect(readRopHead(r, 0x02).returnValue).toBe(0);
    const hasRules = r.u8();
    expect([0, 1]).toContain(hasRules);
    expect(r.u8()).toBe(0); // IsGhosted: a private mailbox folder is never ghosted
    expect(readRopHead(r, 0x05).returnValue).toBe(0);
    const rowCount = r.u32();
    expect(rowCount).toBeGreaterThanOrEqual(1);
    expect(readRopHead(r, 0x12).returnValue).toBe(0);
    r.u8(); // TableStatus
    expect(readRopHead(r, 0x15).returnValue).toBe(0);
    r.u8(); // Origin
    const n = r.u16();
    expect(n).toBe(rowCount);
    const rows = Array.from({ length: n }, () => readPropertyRow(r, columns));
    const subjects = rows.map((row) => ("value" in row[0]! ? row[0].value : null));
    expect(subjects).toContain(subject);
    const mine = rows.find((row) => "value" in row[0]! && row[0].value === subject)!;
    expect(mine[1]).toEqual({ value: "IPM.Note" });
    expect("value" in mine[2]! && typeof mine[2].value === "bigint").toBe(true);
    // The handles of the folder and the table came back (MS-OXCRPC §3.1.4.2).
    expect(er.handles.length).toBe(3);
    expect(er.handles[1]).not.toBe(NEW_HANDLE);
    expect(er.handles[2]).not.toBe(NEW_HANDLE);
  });

  test("NSPI Bind + QueryRows lists the directory's users with their SMTP addresses", async () => {
    const c = new MapiHttpClient(srv.port("HTTPS"), alice.email, PASS);
    const stat = { sortType: 0, containerId: 0, currentRec: 0, delta: 0, numPos: 0, totalRecs: 0, codePage: 1252, templateLocale: 1033, sortLocale: 1033 };
    const bindBody = new Writer().u32(0).u8(0xff);
    writeStat(bindBody, stat);
    const bind = await c.post(NSPI, "Bind", bindBody.u32(0).finish()); // §2.2.5.1.1
    expect(bind.status).toBe(200);
    expect(bind.responseCode).toBe("0");
    const br = new Reader(bind.body);
    expect(br.u32()).toBe(0); // StatusCode
    expect(br.u32()).toBe(0); // ErrorCode
    expect(br.bytes(16).length).toBe(16); // ServerGuid

    const columns = [PidTagDisplayName, PidTagSmtpAddress];
    const q = new Writer().u32(0).u8(0xff);
    writeStat(q, stat);
    q.u32(0).u32(100).u8(0xff); // ExplicitTableCount 0, RowCount 100, HasColumns (§2.2.5.13.1)
    writeTagArray(q, columns);
    const qr = await c.post(NSPI, "QueryRows", q.u32(0).finish());
    expect(qr.responseCode).toBe("0");
    const r = new Reader(qr.body);
    expect(r.u32()).toBe(0); // StatusCode
    expect(r.u32()).toBe(0); // ErrorCode
    expect(r.u8()).toBe(0xff); // HasState
    const after = readStat(r);
    expect(r.u8()).toBe(0xff); // HasColsAndRows
    expect(readTagArray(r)).toEqual(columns);
    const n = r.u32();
    const rows = Array.from({ length: n }, () => readAbRow(r, columns));
    const addresses = rows.map((row) => ("value" in row[1]! ? String(row[1].value).toLowerCase() : ""));
    expect(addresses).toContain("alice@mapi.test");
    expect(addresses).toContain("bob@mapi.test");
    const bobRow = rows.find((row) => "value" in row[1]! && String(row[1].value).toLowerCase() === "bob@mapi.test")!;
    expect(bobRow[0]).toEqual({ value: "Bob Mapi" });
    expect(after.totalRecs).toBeGreaterThanOrEqual(2);
  });

  test("a message created and submitted with ROPs arrives in the recipient's Inbox over IMAP", async () => {
    const subject = `E2E submitted ${Math.random().toString(36).slice(2)}`;
    const { c, logonHandle, folderIds } = await logon(alice);
    const rops = new Writer();
    // RopCreateMessage (§2.2.6.2.1) in the Outbox: CodePageId 0x0FFF (the logon's), not associated.
    rops.u8(0x06).u8(0).u8(0).u8(1).u16(0x0fff).u64(folderIds[FOLDER.outbox]!).u8(0);
    // RopSetProperties (§2.2.8.6.1): PropertyValueSize counts PropertyValueCount and the values.
    const props = new Writer();
    const values = [
      { tag: PidTagSubject, value: subject },
      { tag: PidTagMessageClass, value: "IPM.Note" },
      { tag: PidTagBody, value: "Written over MAPI/HTTP, submitted with RopSubmitMessage." },
    ];
    for (const v of values) writeTaggedValue(props, v);
    const pv = props.finish();
    rops.u8(0x0a).u8(0).u8(1).u16(pv.length + 2).u16(values.length).bytes(pv);
    // RopModifyRecipients (§2.2.6.5.1): one To row for bob, SMTP type with an email address and a display name, Unicode (MS-OXCDATA §2.8.3).
    const recipColumns = [PidTagObjectType, PidTagDisplayType];
    const row = new Writer().u16(0x0003 | 0x0008 | 0x0010 | 0x0200).cstr16("bob@mapi.test").cstr16("Bob Mapi").u16(recipColumns.length);
    row.u8(0x00).u32(6).u32(0); // StandardPropertyRow: MAPI_MAILUSER, DT_MAILUSER
    const rowBytes = row.finish();
    rops.u8(0x0e).u8(0).u8(1).u16(recipColumns.length);
    for (const t of recipColumns) rops.u32(t);
    rops.u16(1).u32(0).u8(0x01).u16(rowBytes.length).bytes(rowBytes);
    rops.u8(0x32).u8(0).u8(1).u8(0); // RopSubmitMessage (§2.2.7.1.1)
    const ex = await c.post(EMSMDB, "Execute", executeRequest(rops.finish(), [logonHandle, NEW_HANDLE]));
    expect(ex.responseCode).toBe("0");
    const r = new Reader(parseExecuteResponse(ex.body).rops);
    expect(readRopHead(r, 0x06).returnValue).toBe(0);
    if (r.u8() !== 0) r.u64(); // HasMessageId, MessageId
    expect(readRopHead(r, 0x0a).returnValue).toBe(0);
    expect(r.u16()).toBe(0); // PropertyProblemCount
    expect(readRopHead(r, 0x0e).returnValue).toBe(0);
    expect(readRopHead(r, 0x32).returnValue).toBe(0);

    const { c: imap } = await RawImap.connect(srv.port("IMAP"));
    try {
      expect((await imap.cmd(`LOGIN bob@mapi.test ${PASS}`)).status).toBe("OK");
      const found = await waitFor(async () => {
        await imap.cmd("SELECT INBOX");
        const s = await imap.cmd(`UID SEARCH SUBJECT "${subject}"`);
        const hit = s.untagged.find((l) => /^\* SEARCH \d/.test(l));
        return hit ? hit.split(" ")[2] : null;
      }, "the submitted message in bob's INBOX");
      const f = await imap.cmd(`UID FETCH ${found} (BODY.PEEK[])`);
      const text = f.untagged.join("\n");
      expect(text).toContain(subject);
      expect(text).toContain("Written over MAPI/HTTP");
      expect(text.toLowerCase()).toContain("alice@mapi.test");
    } finally {
      await imap.cmd("LOGOUT").catch(() => {});
    }
  });

  test("Disconnect ends the session: a later Execute finds no context", async () => {
    const { c, logonHandle } = await logon(bob);
    const d = await c.post(EMSMDB, "Disconnect", new Writer().u32(0).finish()); // §2.2.4.3.1: AuxiliaryBufferSize 0
    expect(d.status).toBe(200);
    expect(d.responseCode).toBe("0");
    expect(new Reader(d.body).u32()).toBe(0); // StatusCode
    const rops = new Writer().u8(0x01).u8(0).u8(0).finish(); // RopRelease of the logon
    const ex = await c.post(EMSMDB, "Execute", executeRequest(rops, [logonHandle]));
    // MS-OXCMAPIHTTP §2.2.3.3.3: 10 Context Not Found (the cookie names a session that is gone); 6 if the cookie itself is refused.
    expect(["10", "6"]).toContain(ex.responseCode ?? "missing");
  });
});
