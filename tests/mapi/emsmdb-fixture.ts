/**
 * The EMSMDB engine tests' shared set-up: a real server (SMTP, submission,
 * IMAP) with alice and bob, alice's Inbox holding four messages delivered
 * over SMTP (one with an attachment), and RopLogon for a fresh session.
 */
import "../../protocols/index.ts";
import "../../protocols/imap/index.ts";
import { expect } from "bun:test";
import { smtpSend } from "../reliability/lib/conn.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { Account } from "../../storage/api.ts";
import type { EmsmdbState } from "../../protocols/http/mapi/emsmdb/objects.ts";
import type { MapiContext } from "../../protocols/http/mapi/types.ts";
import { legacyDn } from "../../protocols/http/mapi/identity.ts";
import { LOGON, NULL_HANDLE, connect, contextFor, exec, head, rop } from "./emsmdb-client.ts";

export const A = { email: "alice@example.test", pass: "alice-password-1" };
export const B = { email: "bob@example.test", pass: "bob-password-12" };
export const T = {
  DisplayName: 0x3001001f,
  Subfolders: 0x360a000b,
  ContentCount: 0x36020003,
  Subject: 0x0037001f,
  Mid: 0x674a0014,
  FolderId: 0x67480014,
  Body: 0x1000001f,
  MessageClass: 0x001a001f,
  MessageFlags: 0x0e070003,
  SenderSmtp: 0x5d01001f,
  RuleName: 0x6682001f,
  RuleId: 0x66740014,
  AttachLongFilename: 0x3707001f,
  AttachData: 0x37010102,
  ContainerClass: 0x3613001f,
};

function mail(subject: string, body = `Hello ${subject}`): string {
  return `From: Bob <bob@example.test>\r\nTo: ${A.email}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}\r\n`;
}

export interface Fixture {
  srv: TestServer;
  alice: Account;
  c: MapiContext;
}

export async function startFixture(): Promise<Fixture> {
  const srv = await startTestServer({ listeners: ["SMTP", "SUBMISSION", "IMAP"] });
  const alice = await createUser(srv.store, A.email, A.pass);
  await createUser(srv.store, B.email, B.pass);
  for (const s of ["Zebra report", "Apple pie", "Mango season"]) {
    const r = await smtpSend({ port: srv.port("SMTP"), from: B.email, to: [A.email], data: mail(s) });
    expect(r.code).toBe(250);
  }
  const withFile =
    `From: bob@example.test\r\nTo: ${A.email}\r\nSubject: With file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n` +
    `--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n`;
  expect((await smtpSend({ port: srv.port("SMTP"), from: B.email, to: [A.email], data: withFile })).code).toBe(250);
  return { srv, alice, c: contextFor(srv, alice) };
}

/** Connect + RopLogon: the state, the 13 folder ids, and the handle table with the logon in slot 0. */
export async function logonAs(c: MapiContext, alice: Account): Promise<{ s: EmsmdbState; fids: bigint[] }> {
  const { state } = await connect(c);
  const s = state!;
  const { r, handles } = await exec(c, s, [rop.logon(legacyDn(alice))], [NULL_HANDLE]);
  const h = head(r);
  expect(h).toEqual({ ropId: 0xfe, index: 0, rv: 0 });
  expect(r.u8()).toBe(0x01); // LogonFlags echoed
  const fids: bigint[] = [];
  for (let i = 0; i < 13; i++) fids.push(r.u64());
  expect(handles[0]).toBe((LOGON << 24) >>> 0);
  return { s, fids };
}
