/**
 * ConvertId (MS-OXWSCORE §3.1.4.3) over real sockets: every form converts to
 * every other and back, exchangelib's version probe ("DUMMY") gets
 * ErrorInvalidIdMalformed with the ServerVersionInfo header, foreign and
 * malformed ids get their own codes, and exchangelib's own ConvertId client
 * reads our answers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../helpers/proc.ts";
import { createUser, find, findAll, responseCodes, startEws, type EwsEnv } from "./helpers.ts";
import { folderId, itemId } from "../../protocols/http/ews/ids.ts";
import type { Account, Folder } from "../../storage/api.ts";

let env: EwsEnv;
let alice: Account;
let bob: Account;
const A = "alice@example.test";
const PW = "alice-password-1";

beforeAll(async () => {
  env = await startEws();
  alice = await createUser(env.srv.store, A, PW);
  bob = await createUser(env.srv.store, "bob@example.test", "bob-password-1");
});
afterAll(() => env.close());

const FORMATS = ["EwsId", "EwsLegacyId", "EntryId", "HexEntryId", "StoreId", "OwaId"];

function convert(ids: { id: string; format: string; mailbox?: string }[], dest: string) {
  const src = ids.map((i) => `<t:AlternateId Format="${i.format}" Id="${i.id}" Mailbox="${i.mailbox ?? A}"/>`).join("");
  return env.call(A, PW, `<m:ConvertId DestinationFormat="${dest}"><m:SourceIds>${src}</m:SourceIds></m:ConvertId>`);
}

async function convertOk(id: string, format: string, dest: string): Promise<string> {
  const r = await convert([{ id, format }], dest);
  expect(r.status).toBe(200);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const alt = findAll(r.body, "AlternateId")[0]!;
  expect(alt.attrs.Format).toBe(dest);
  expect(alt.attrs.Mailbox).toBe(A);
  return alt.attrs.Id!;
}

test("exchangelib's version probe: ConvertId of DUMMY is ErrorInvalidIdMalformed, with ServerVersionInfo", async () => {
  const r = await env.call(A, PW, `<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="DUMMY"/></m:SourceIds></m:ConvertId>`, { version: "Exchange2019" });
  expect(r.status).toBe(200);
  expect(responseCodes(r.body)).toEqual(["ErrorInvalidIdMalformed"]);
  const info = findAll(r.envelope, "ServerVersionInfo")[0]!;
  expect(info.attrs.MajorVersion).toBe("15");
  expect(info.attrs.MinorVersion).toBe("1");
  // A version newer than the server's is answered as the server's own.
  expect(info.attrs.Version).toBe("Exchange2016");
});

test("an item id converts to every form and back to the same EwsId", async () => {
  const ews = itemId({ accountId: alice.id, itemClass: "mail", id: 4242 });
  for (const dest of FORMATS) {
    const other = await convertOk(ews, "EwsId", dest);
    const back = await convertOk(other, dest, "EwsId");
    expect(back).toBe(ews);
  }
});

test("calendar occurrences, contacts and folder ids (store and virtual) survive the round trip", async () => {
  const ids = [
    itemId({ accountId: alice.id, itemClass: "calendar", id: 7, occurrence: Date.UTC(2026, 11, 24, 9) }),
    itemId({ accountId: alice.id, itemClass: "contacts", id: 2 ** 40 }),
    folderId(alice.id, { id: 3 } as Folder),
    folderId(alice.id, "root"),
    folderId(alice.id, "msgfolderroot"),
    folderId(alice.id, "recoverableitemsdeletions"),
  ];
  for (const ews of ids) {
    for (const dest of ["EntryId", "HexEntryId", "StoreId", "OwaId"]) {
      const other = await convertOk(ews, "EwsId", dest);
      expect(await convertOk(other, dest, "EwsId")).toBe(ews);
    }
  }
});

test("EntryId has the MAPI shape: 70 bytes for a message, 46 for a folder, flags 0", async () => {
  const msg = Buffer.from(await convertOk(itemId({ accountId: alice.id, itemClass: "mail", id: 1 }), "EwsId", "EntryId"), "base64");
  expect(msg.length).toBe(70);
  expect(msg.readUInt32LE(0)).toBe(0);
  expect(msg.readUInt16LE(20)).toBe(7);
  const folder = Buffer.from(await convertOk(folderId(alice.id, { id: 5 } as Folder), "EwsId", "HexEntryId"), "hex");
  expect(folder.length).toBe(46);
  expect(folder.readUInt16LE(20)).toBe(1);
});

test("several ids: one response message each, in order; bad ones do not fail the others; the answer's Mailbox is the owner's address", async () => {
  const good = itemId({ accountId: alice.id, itemClass: "mail", id: 9 });
  const bobs = itemId({ accountId: bob.id, itemClass: "mail", id: 9 });
  const r = await convert(
    [
      { id: good, format: "EwsId" },
      { id: "not-an-id", format: "EntryId" },
      { id: bobs, format: "EwsId" },
      { id: good, format: "EwsId", mailbox: "blah@blah.com" },
      { id: "", format: "EwsId" },
      { id: "ABCD", format: "HexEntryId" },
      { id: good, format: "Nonsense" },
    ],
    "HexEntryId",
  );
  // DavMail sends a dummy Mailbox and learns the user's address from the answer's.
  expect(findAll(r.body, "AlternateId").map((a) => a.attrs.Mailbox)).toEqual([A, A]);
  expect(responseCodes(r.body)).toEqual([
    "NoError",
    "ErrorInvalidIdMalformed",
    "ErrorItemNotFound",
    "NoError",
    "ErrorInvalidIdEmpty",
    "ErrorInvalidIdMalformed",
    "ErrorInvalidRequest",
  ]);
});

test("public folder ids are not ours: ErrorInvalidIdMalformed", async () => {
  const r = await env.call(A, PW, `<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternatePublicFolderId Format="EntryId" FolderId="AAAA"/></m:SourceIds></m:ConvertId>`);
  expect(responseCodes(r.body)).toEqual(["ErrorInvalidIdMalformed"]);
});

test("request-level mistakes: bad DestinationFormat, no SourceIds, empty, over 1000 ids", async () => {
  const codeOf = async (xml: string) => {
    const r = await env.call(A, PW, xml);
    expect(r.status).toBe(200);
    return responseCodes(r.body);
  };
  expect(await codeOf(`<m:ConvertId DestinationFormat="Base64"><m:SourceIds/></m:ConvertId>`)).toEqual(["ErrorInvalidRequest"]);
  expect(await codeOf(`<m:ConvertId DestinationFormat="EwsId"/>`)).toEqual(["ErrorInvalidRequest"]);
  expect(await codeOf(`<m:ConvertId DestinationFormat="EwsId"><m:SourceIds/></m:ConvertId>`)).toEqual(["ErrorInvalidRequest"]);
  const many = `<t:AlternateId Format="EwsId" Id="x" Mailbox="${A}"/>`.repeat(1001);
  expect(await codeOf(`<m:ConvertId DestinationFormat="EwsId"><m:SourceIds>${many}</m:SourceIds></m:ConvertId>`)).toEqual(["ErrorExceededFindCountLimit"]);
});

test("ConvertId is not in Exchange2007 (RTM): fault ErrorInvalidRequest", async () => {
  const r = await env.call(A, PW, `<m:ConvertId DestinationFormat="EwsId"><m:SourceIds/></m:ConvertId>`, { version: "Exchange2007" });
  expect(r.status).toBe(400);
  expect(find(r.body, "detail", "ResponseCode")?.text).toBe("ErrorInvalidRequest");
});

test("exchangelib: the version guess finds Exchange 2016, and its ConvertId client reads our answers", async () => {
  const ews = itemId({ accountId: alice.id, itemClass: "mail", id: 77 });
  const r = await run("/usr/bin/python3", [join(import.meta.dir, "exchangelib", "envelope_convert_id.py"), ews], {
    env: { PB_EWS_HOST: "127.0.0.1", PB_EWS_PORT: String(env.port), EWS_USER: A, EWS_PASS: PW },
    timeoutMs: 50_000,
  });
  if (r.code !== 0) console.error(r.stdout, r.stderr);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("ok: round trip");
}, 55_000);
