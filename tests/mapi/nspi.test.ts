/**
 * NSPI over MAPI/HTTP (protocols/http/mapi/nspi, wire/nspi-*): the address
 * book served from the directory. A directory of several users, a one-target
 * alias and a list alias, plus a user of another domain who must never show.
 * Most cases call the service in-process with request bodies built byte by
 * byte after MS-OXCMAPIHTTP §2.2.5; the last ones go over real HTTPS.
 */
import "../../protocols/index.ts";
import "../../protocols/http/mapi/index.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { Account } from "../../storage/api.ts";
import { legacyDn, mailboxGuid } from "../../protocols/http/mapi/identity.ts";
import { MapiHttpError, type MapiContext, type NspiRequestType } from "../../protocols/http/mapi/types.ts";
import { nspi } from "../../protocols/http/mapi/nspi/service.ts";
import { GAL_TTL_MS, type NspiSessionState } from "../../protocols/http/mapi/nspi/gal.ts";
import { Reader } from "../../protocols/http/mapi/wire/reader.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";
import { type AbCell, type Stat, readAbRow, readAbValueList, readMidArray, readStat, readTagArray, writeStat, writeTagArray } from "../../protocols/http/mapi/wire/nspi-values.ts";
import { MapiHttpClient } from "./e2e-client.ts";

const PASS = "nspi-test-pass-1";
// MS-OXPROPS tags
const DisplayName = 0x3001001f;
const DisplayName8 = 0x3001001e;
const SmtpAddress = 0x39fe001f;
const EmailAddress = 0x3003001f;
const AddressType = 0x3002001f;
const EntryId = 0x0fff0102;
const GivenName = 0x3a06001f;
const DisplayType = 0x39000003;
const ObjectType = 0x0ffe0003;
const ProxyAddresses = 0x800f101f;
const Anr = 0x360c001f;
const ContainerFlags = 0x36000003;
// MS-OXNSPI §2.2.1.2
const ecSuccess = 0;
const ecErrorsReturned = 0x00040380;
const ecNotFound = 0x8004010f;
const ecTableTooBig = 0x80040403;
const ecAccessDenied = 0x80070005;
const MID_END_OF_TABLE = 2;

let srv: TestServer;
let alice: Account;
let bob: Account;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["HTTPS"] });
  alice = await createUser(srv.store, "alice@nspi.test", PASS, { displayName: "Alice Liddell" });
  bob = await createUser(srv.store, "bob@nspi.test", PASS, { displayName: "Bob Mapi" });
  await createUser(srv.store, "carol@nspi.test", PASS, { displayName: "Carol van der Berg" });
  await createUser(srv.store, "zed@nspi.test", PASS);
  await createUser(srv.store, "eve@elsewhere.test", PASS, { displayName: "Eve Elsewhere" });
  await srv.store.addAlias("ally@nspi.test", "alice@nspi.test");
  await srv.store.addAlias("team@nspi.test", "alice@nspi.test");
  await srv.store.addAlias("team@nspi.test", "bob@nspi.test");
});

afterAll(async () => {
  await srv?.close();
});

/** The clock the service sees (MapiContext.now): tests move it to expire the session's GAL snapshot. */
let clock = 1_000_000;

function ctx(account: Account): MapiContext {
  return { server: srv.ctx, store: srv.store, account, log: srv.ctx.log, signal: new AbortController().signal, now: () => clock, origin: "https://mail.nspi.test" };
}

/** MS-OXNSPI §4: the STAT Outlook binds with (code page 1252, locales 0x409), all positions zero. */
const SPEC_STAT: Stat = { sortType: 0, containerId: 0, currentRec: 0, delta: 0, numPos: 0, totalRecs: 0, codePage: 0x4e4, templateLocale: 0x409, sortLocale: 0x409 };

function stat(over: Partial<Stat> = {}): Stat {
  return { ...SPEC_STAT, ...over };
}

async function bind(account: Account = alice): Promise<NspiSessionState> {
  const w = new Writer().u32(0).u8(0xff);
  writeStat(w, SPEC_STAT);
  const { body, state } = await nspi.bind(ctx(account), w.u32(0).finish());
  expect(state).not.toBeNull();
  expect(body.length).toBe(4 + 4 + 16 + 4);
  return state!;
}

const call = (st: NspiSessionState, type: NspiRequestType, body: Uint8Array, account: Account = alice) => nspi.call(ctx(account), st, type, body);

/** Reads StatusCode + ErrorCode. */
function head(b: Uint8Array): { r: Reader; error: number } {
  const r = new Reader(b);
  expect(r.u32()).toBe(0);
  return { r, error: r.u32() };
}

function readOptStat(r: Reader): Stat | null {
  return r.u8() ? readStat(r) : null;
}

/** Columns + rows after HasColsAndRows. */
function readRows(r: Reader): { columns: number[]; rows: AbCell[][]; flags: number[] } | null {
  if (!r.u8()) return null;
  const columns = readTagArray(r);
  const n = r.u32();
  const rows: AbCell[][] = [];
  const flags: number[] = [];
  for (let i = 0; i < n; i++) {
    flags.push(r.buf[r.pos]!);
    rows.push(readAbRow(r, columns));
  }
  return { columns, rows, flags };
}

function endAux(r: Reader): void {
  expect(r.u32()).toBe(0);
  r.done();
}

/** MS-OXCMAPIHTTP §2.2.5.12 QueryRows request body. */
function queryRowsBody(s: Stat, rowCount: number, columns: number[] | null, explicit: number[] = [], flags = 0): Uint8Array {
  const w = new Writer().u32(flags).u8(0xff);
  writeStat(w, s);
  w.u32(explicit.length);
  for (const m of explicit) w.u32(m);
  w.u32(rowCount);
  if (columns) {
    w.u8(0xff);
    writeTagArray(w, columns);
  } else w.u8(0);
  return w.u32(0).finish();
}

async function queryRows(st: NspiSessionState, s: Stat, rowCount: number, columns: number[], explicit: number[] = []) {
  const { r, error } = head(await call(st, "QueryRows", queryRowsBody(s, rowCount, columns, explicit)));
  const outStat = readOptStat(r);
  const rows = readRows(r);
  endAux(r);
  return { error, stat: outStat!, rows: rows! };
}

const val = (c: AbCell | undefined): unknown => (c && "value" in c ? c.value : undefined);

describe("NSPI Bind / QueryRows (the GAL)", () => {
  test("Bind with the MS-OXNSPI §4 STAT answers success and a 16-byte server GUID, the same for every session", async () => {
    const w = new Writer().u32(0).u8(0xff);
    writeStat(w, SPEC_STAT);
    const a = await nspi.bind(ctx(alice), w.u32(0).finish());
    const b = await nspi.bind(ctx(bob), new Writer().u32(0).u8(0).u32(0).finish()); // HasState 0: no STAT
    const ra = head(a.body);
    expect(ra.error).toBe(ecSuccess);
    const guid = ra.r.bytes(16);
    endAux(ra.r);
    expect(b.body.subarray(8, 24)).toEqual(guid);
  });

  test("ruler's abk list: 100 rows of DisplayName + SmtpAddress, display-name order, own domain only, then end of table", async () => {
    const st = await bind();
    const first = await queryRows(st, stat({ totalRecs: 0xff }), 100, [DisplayName, SmtpAddress]);
    expect(first.error).toBe(ecSuccess);
    expect(first.rows.columns).toEqual([DisplayName, SmtpAddress]);
    expect(first.rows.flags.every((f) => f === 0)).toBe(true); // every column present: Flags 0x0 rows (§2.2.1.7)
    const names = first.rows.rows.map((r) => val(r[0]));
    const smtp = first.rows.rows.map((r) => val(r[1]));
    expect(smtp).toContain("bob@nspi.test");
    expect(smtp).toContain("team@nspi.test");
    expect(smtp).toContain("ally@nspi.test");
    expect(smtp).not.toContain("eve@elsewhere.test");
    expect(names).toEqual([...names].sort((x, y) => String(x).localeCompare(String(y), "en", { sensitivity: "base" })));
    expect(first.stat.totalRecs).toBe(smtp.length);
    expect(first.stat.currentRec).toBe(MID_END_OF_TABLE);
    expect(first.stat.numPos).toBe(smtp.length);
    const again = await queryRows(st, first.stat, 100, [DisplayName, SmtpAddress]);
    expect(again.rows.rows.length).toBe(0);
  });

  test("paging two rows at a time walks the same list, CurrentRec naming the next row", async () => {
    const st = await bind();
    const all = (await queryRows(st, stat(), 100, [SmtpAddress])).rows.rows.map((r) => val(r[0]));
    const seen: unknown[] = [];
    let s = stat();
    for (let i = 0; i < 20; i++) {
      const page = await queryRows(st, s, 2, [SmtpAddress]);
      if (!page.rows.rows.length) break;
      seen.push(...page.rows.rows.map((r) => val(r[0])));
      s = page.stat;
      expect(s.numPos).toBe(seen.length);
      expect(s.delta).toBe(0);
    }
    expect(seen).toEqual(all);
  });

  test("an explicit table gives those MIds' rows; an unknown MId is a flagged row of ecNotFound", async () => {
    const st = await bind();
    const { r } = head(await call(st, "DNToMId", dnBody([legacyDn(bob)])));
    expect(r.u8()).toBe(0xff);
    const [bobMid] = readMidArray(r);
    const out = await queryRows(st, stat(), 10, [DisplayName, EmailAddress, AddressType], [bobMid!, 0x7777]);
    expect(out.rows.rows.length).toBe(2);
    expect(out.rows.flags).toEqual([0, 1]);
    expect(out.rows.rows[0]!.map(val)).toEqual(["Bob Mapi", legacyDn(bob), "EX"]);
    expect(out.rows.rows[1]).toEqual([{ error: ecNotFound }, { error: ecNotFound }, { error: ecNotFound }]);
  });

  test("a column an entry lacks makes a flagged row; 8-bit and unspecified column types are honoured", async () => {
    const st = await bind();
    const out = await queryRows(st, stat(), 100, [DisplayName8, GivenName, 0x39fe0000, ObjectType]);
    const zed = out.rows.rows.find((r) => val(r[2]) === "zed@nspi.test")!;
    expect(val(zed[0])).toBe("zed@nspi.test"); // no display name: the address (directory.ts)
    expect(zed[1]).toEqual({ error: ecNotFound });
    const team = out.rows.rows.find((r) => val(r[2]) === "team@nspi.test")!;
    expect(val(team[3])).toBe(8); // MAPI_DISTLIST
    const carol = out.rows.rows.find((r) => val(r[2]) === "carol@nspi.test")!;
    expect(val(carol[1])).toBe("Carol");
  });

  test("a directory change shows once the session's snapshot is GAL_TTL_MS old; MIds already given stay the same", async () => {
    const st = await bind();
    const before = await queryRows(st, stat(), 100, [SmtpAddress, 0x0ff60102 /* PidTagInstanceKey: the MId */]);
    await createUser(srv.store, "newcomer@nspi.test", PASS, { displayName: "Newcomer" });
    const cached = await queryRows(st, stat(), 100, [SmtpAddress]);
    expect(cached.rows.rows.length).toBe(before.rows.rows.length);
    clock += GAL_TTL_MS;
    const after = await queryRows(st, stat(), 100, [SmtpAddress, 0x0ff60102]);
    expect(after.rows.rows.length).toBe(before.rows.rows.length + 1);
    const mids = (rows: AbCell[][]) => new Map(rows.map((r) => [val(r[0]), Buffer.from(val(r[1]) as Uint8Array).toString("hex")]));
    const was = mids(before.rows.rows);
    const now = mids(after.rows.rows);
    for (const [addr, mid] of was) expect(now.get(addr)).toBe(mid);
    expect([...was.values()]).not.toContain(now.get("newcomer@nspi.test"));
    await srv.store.removeAccount("newcomer@nspi.test");
    clock += GAL_TTL_MS;
  });

  test("a container other than the GAL is an empty table", async () => {
    const st = await bind();
    const out = await queryRows(st, stat({ containerId: 0x4242 }), 100, [DisplayName]);
    expect(out.rows.rows.length).toBe(0);
    expect(out.stat.totalRecs).toBe(0);
  });
});

function dnBody(names: string[]): Uint8Array {
  const w = new Writer().u32(0).u8(0xff).u32(names.length);
  for (const n of names) w.cstr8(n);
  return w.u32(0).finish();
}

/** MS-OXCMAPIHTTP §2.2.5.5 GetMatches with a restriction (32-bit And/Or counts, AB tagged values). */
function getMatchesBody(filter: (w: Writer) => void, rowCount: number, columns: number[]): Uint8Array {
  const w = new Writer().u32(0).u8(0xff);
  writeStat(w, SPEC_STAT);
  w.u8(0).u32(0).u8(0xff);
  filter(w);
  w.u8(0).u32(rowCount).u8(0xff);
  writeTagArray(w, columns);
  return w.u32(0).finish();
}

const anrFilter = (q: string) => (w: Writer) => {
  w.u8(0x04).u8(4).u32(Anr).u16(0x001f).u16(0x360c).u8(0xff).cstr16(q); // RES_PROPERTY, RELOP_EQ, PidTagAnr
};

async function matches(st: NspiSessionState, filter: (w: Writer) => void, rowCount = 50) {
  const { r, error } = head(await call(st, "GetMatches", getMatchesBody(filter, rowCount, [SmtpAddress])));
  const s = readOptStat(r);
  const mids = r.u8() ? readMidArray(r) : null;
  const rows = readRows(r);
  endAux(r);
  return { error, stat: s, mids, smtp: rows?.rows.map((x) => val(x[0])) ?? [] };
}

describe("NSPI finding people", () => {
  test("GetMatches with PidTagAnr finds one person; a content prefix restriction on the display name finds several", async () => {
    const st = await bind();
    const one = await matches(st, anrFilter("bob"));
    expect(one.error).toBe(ecSuccess);
    expect(one.smtp).toEqual(["bob@nspi.test"]);
    expect(one.mids!.length).toBe(1);
    expect(one.stat!.totalRecs).toBe(1);
    // RES_CONTENT, FL_PREFIX | FL_IGNORECASE on PidTagDisplayName "al"
    const prefix = await matches(st, (w) => w.u8(0x03).u16(2).u16(1).u32(DisplayName).u16(0x001f).u16(0x3001).u8(0xff).cstr16("al"));
    expect(prefix.smtp.sort()).toEqual(["alice@nspi.test", "ally@nspi.test"]);
    // RES_OR of two ANRs, and RES_NOT
    const or = await matches(st, (w) => { w.u8(0x01).u32(2); anrFilter("bob")(w); anrFilter("carol")(w); });
    expect(or.smtp.sort()).toEqual(["bob@nspi.test", "carol@nspi.test"]);
    const not = await matches(st, (w) => { w.u8(0x02); anrFilter("a")(w); });
    expect(not.smtp).not.toContain("alice@nspi.test");
  });

  test("GetMatches with more matches than RowCount is ecTableTooBig and no rows", async () => {
    const st = await bind();
    const m = await matches(st, (w) => w.u8(0x08).u32(SmtpAddress), 1); // RES_EXIST: everybody
    expect(m.error).toBe(ecTableTooBig);
    expect(m.smtp).toEqual([]);
  });

  test("a restriction type the address book does not evaluate is an invalid request body", async () => {
    const st = await bind();
    await expect(call(st, "GetMatches", getMatchesBody((w) => w.u8(0x09).u32(0), 10, [SmtpAddress]))).rejects.toBeInstanceOf(MapiHttpError);
  });

  test("ResolveNames: resolved, unresolved, ambiguous; rows for the resolved names only", async () => {
    const st = await bind();
    const names = ["bob", "nobody-here", "a", "SMTP:carol@nspi.test"];
    const w = new Writer().u32(0).u8(0xff);
    writeStat(w, SPEC_STAT);
    w.u8(0xff);
    writeTagArray(w, [DisplayName, SmtpAddress, EntryId]);
    w.u8(0xff).u32(names.length);
    for (const n of names) w.cstr16(n);
    const { r, error } = head(await call(st, "ResolveNames", w.u32(0).finish()));
    expect(error).toBe(ecSuccess);
    expect(r.u32()).toBe(0x4e4); // CodePage
    expect(r.u8()).toBe(0xff);
    expect(readMidArray(r)).toEqual([2, 0, 1, 2]); // MID_RESOLVED, MID_UNRESOLVED, MID_AMBIGUOUS (MS-OXNSPI §3.1.4.7)
    const rows = readRows(r)!;
    endAux(r);
    expect(rows.rows.map((x) => val(x[1]))).toEqual(["bob@nspi.test", "carol@nspi.test"]);
    // MS-OXNSPI §2.2.9.3 PermanentEntryID: type 0, GUID_NSPI, R4 1, display type, the DN
    const eid = val(rows.rows[0]![2]) as Uint8Array;
    expect(eid[0]).toBe(0);
    expect(Buffer.from(eid.subarray(4, 20)).toString("hex")).toBe("dca740c8c042101ab4b908002b2fe182");
    expect(new DataView(eid.buffer, eid.byteOffset).getUint32(20, true)).toBe(1);
    expect(Buffer.from(eid.subarray(28, eid.length - 1)).toString("latin1")).toBe(legacyDn(bob));
  });

  test("DNToMId: a DN we show gets its MId (case-insensitively), anything else 0; MIds are stable in a session", async () => {
    const st = await bind();
    const ask = async (dns: string[]) => {
      const { r, error } = head(await call(st, "DNToMId", dnBody(dns)));
      expect(error).toBe(ecSuccess);
      expect(r.u8()).toBe(0xff);
      const m = readMidArray(r);
      endAux(r);
      return m;
    };
    const [a, b, c] = await ask([legacyDn(bob), legacyDn(alice).toUpperCase(), "/o=Elsewhere/cn=Recipients/cn=nobody"]);
    expect(a).toBeGreaterThan(2);
    expect(b).toBeGreaterThan(2);
    expect(a).not.toBe(b);
    expect(c).toBe(0);
    expect(await ask([legacyDn(bob)])).toEqual([a!]);
  });
});

describe("NSPI objects", () => {
  async function midOf(st: NspiSessionState, acct: Account): Promise<number> {
    const { r } = head(await call(st, "DNToMId", dnBody([legacyDn(acct)])));
    r.u8();
    return readMidArray(r)[0]!;
  }

  function getPropsBody(mid: number, tags: number[] | null, flags = 0, codePage = 0x4e4): Uint8Array {
    const w = new Writer().u32(flags).u8(0xff);
    writeStat(w, stat({ currentRec: mid, codePage }));
    if (tags) { w.u8(0xff); writeTagArray(w, tags); } else w.u8(0);
    return w.u32(0).finish();
  }

  test("GetProps: the asked properties; a missing one is PtypErrorCode ecNotFound and the call ecErrorsReturned", async () => {
    const st = await bind();
    const mid = await midOf(st, bob);
    const { r, error } = head(await call(st, "GetProps", getPropsBody(mid, [DisplayName, EmailAddress, AddressType, SmtpAddress, DisplayType, ProxyAddresses])));
    expect(error).toBe(ecSuccess);
    expect(r.u32()).toBe(0x4e4);
    expect(r.u8()).toBe(0xff);
    const list = readAbValueList(r);
    endAux(r);
    expect(list.map((v) => v.value)).toEqual(["Bob Mapi", legacyDn(bob), "EX", "bob@nspi.test", 0, ["SMTP:bob@nspi.test"]]);
    const alicesProxies = readAbValueList(new Reader((await call(st, "GetProps", getPropsBody(await midOf(st, alice), [ProxyAddresses]))).subarray(13, -4)));
    expect(alicesProxies[0]!.value).toEqual(["SMTP:alice@nspi.test", "smtp:ally@nspi.test"]);
    const missing = head(await call(st, "GetProps", getPropsBody(mid, [DisplayName, 0x3a17001f /* PidTagTitle: not in the directory */])));
    expect(missing.error).toBe(ecErrorsReturned);
  });

  test("GetProps of a MId that names nothing is ecNotFound", async () => {
    const st = await bind();
    expect(head(await call(st, "GetProps", getPropsBody(0x9999, [DisplayName]))).error).toBe(ecNotFound);
  });

  test("GetProps with fEphID gives an EphemeralEntryID carrying the Bind's server GUID and the MId", async () => {
    const st = await bind();
    const mid = await midOf(st, bob);
    const { r } = head(await call(st, "GetProps", getPropsBody(mid, [EntryId], 0x2)));
    r.u32();
    r.u8();
    const eid = readAbValueList(r)[0]!.value as Uint8Array;
    expect(eid.length).toBe(32);
    expect(eid[0]).toBe(0x87);
    expect(eid.subarray(4, 20)).toEqual(st.serverGuid);
    expect(new DataView(eid.buffer, eid.byteOffset).getUint32(28, true)).toBe(mid);
  });

  test("GetPropList lists 8-bit string tags unless the code page is Unicode; QueryColumns lists the GAL's columns", async () => {
    const st = await bind();
    const mid = await midOf(st, bob);
    const list = async (cp: number) => {
      const { r, error } = head(await call(st, "GetPropList", new Writer().u32(0).u32(mid).u32(cp).u32(0).finish()));
      expect(error).toBe(ecSuccess);
      r.u8();
      return readTagArray(r);
    };
    expect(await list(1252)).toContain(DisplayName8);
    expect(await list(1200)).toContain(DisplayName);
    const { r } = head(await call(st, "QueryColumns", new Writer().u32(0).u32(0).u32(0).finish()));
    r.u8();
    expect(readTagArray(r)).toContain(SmtpAddress);
  });

  test("GetSpecialTable: one hierarchy row, the GAL container, Unicode when asked; none when the client has the version", async () => {
    const st = await bind();
    const body = (flags: number, version: number | null) => {
      const w = new Writer().u32(flags).u8(0xff);
      writeStat(w, SPEC_STAT);
      if (version === null) w.u8(0);
      else w.u8(0xff).u32(version);
      return w.u32(0).finish();
    };
    const { r, error } = head(await call(st, "GetSpecialTable", body(0x4, 0)));
    expect(error).toBe(ecSuccess);
    expect(r.u32()).toBe(0x4e4);
    expect(r.u8()).toBe(0xff);
    const version = r.u32();
    expect(r.u8()).toBe(0xff);
    expect(r.u32()).toBe(1);
    const row = readAbValueList(r);
    endAux(r);
    expect(row.find((v) => v.tag === DisplayName)?.value).toBe("Global Address List");
    expect(row.find((v) => v.tag === ContainerFlags)?.value).toBe(0x9);
    const ansi = head(await call(st, "GetSpecialTable", body(0, null))).r;
    ansi.u32();
    ansi.u8();
    ansi.u32();
    ansi.u8();
    ansi.u32();
    expect(readAbValueList(ansi).some((v) => v.tag === DisplayName8)).toBe(true);
    const same = head(await call(st, "GetSpecialTable", body(0x4, version))).r;
    same.u32();
    expect(same.u8()).toBe(0xff);
    same.u32();
    expect(same.u8()).toBe(0); // no rows
  });

  test("GetTemplateInfo: no templates (ecNotFound); ModProps and ModLinkAtt: ecAccessDenied (read-only directory)", async () => {
    const st = await bind();
    const ti = new Writer().u32(1).u32(0).u8(0).u32(1252).u32(0x409).u32(0).finish();
    expect(head(await call(st, "GetTemplateInfo", ti)).error).toBe(ecNotFound);
    const mp = new Writer().u32(0).u8(0xff);
    writeStat(mp, SPEC_STAT);
    mp.u8(0).u8(0xff).u32(1).u16(0x001f).u16(0x3001).u8(0xff).cstr16("Mallory");
    expect(head(await call(st, "ModProps", mp.u32(0).finish())).error).toBe(ecAccessDenied);
    const ml = new Writer().u32(0).u32(0x8009000d).u32(0x10).u8(0xff).u32(1).u32(3).bytes(Uint8Array.of(1, 2, 3)).u32(0).finish();
    expect(head(await call(st, "ModLinkAtt", ml)).error).toBe(ecAccessDenied);
  });

  test("SeekEntries, UpdateStat, CompareMIds, ResortRestriction move and compare positions in display-name order", async () => {
    const st = await bind();
    const bobMid = await midOf(st, bob);
    const aliceMid = await midOf(st, alice);
    const seek = new Writer().u32(0).u8(0xff);
    writeStat(seek, SPEC_STAT);
    seek.u8(0xff).u16(0x001f).u16(0x3001).u8(0xff).cstr16("Bo").u8(0).u8(0xff);
    writeTagArray(seek, [SmtpAddress]);
    const sk = head(await call(st, "SeekEntries", seek.u32(0).finish()));
    expect(sk.error).toBe(ecSuccess);
    const s = readOptStat(sk.r)!;
    expect(s.currentRec).toBe(bobMid);
    expect(val(readRows(sk.r)!.rows[0]![0])).toBe("bob@nspi.test");

    const us = new Writer().u32(0).u8(0xff);
    writeStat(us, { ...s, delta: 1 });
    const up = head(await call(st, "UpdateStat", us.u8(1).u32(0).finish()));
    const moved = readOptStat(up.r)!;
    expect(moved.numPos).toBe(s.numPos + 1);
    expect(up.r.u8()).toBe(0xff);
    expect(up.r.i32()).toBe(1);

    const cm = new Writer().u32(0).u8(0xff);
    writeStat(cm, SPEC_STAT);
    const cmp = head(await call(st, "CompareMIds", cm.u32(aliceMid).u32(bobMid).u32(0).finish()));
    expect(cmp.error).toBe(ecSuccess);
    expect(cmp.r.i32()).toBeLessThan(0); // "Alice Liddell" sorts before "Bob Mapi"

    const rr = new Writer().u32(0).u8(0xff);
    writeStat(rr, SPEC_STAT);
    rr.u8(0xff).u32(3).u32(bobMid).u32(0x9999).u32(aliceMid);
    const rs = head(await call(st, "ResortRestriction", rr.u32(0).finish()));
    expect(readOptStat(rs.r)!.totalRecs).toBe(2);
    rs.r.u8();
    expect(readMidArray(rs.r)).toEqual([aliceMid, bobMid]);
  });

  test("GetMailboxUrl / GetAddressBookUrl answer the URLs autodiscover gives (identity.ts mapiUrls)", async () => {
    const st = await bind();
    const w = new Writer().u32(0).cstr16(legacyDn(bob)).u32(0).finish();
    const { r, error } = head(await call(st, "GetMailboxUrl", w));
    expect(error).toBe(ecSuccess);
    expect(r.cstr16()).toBe(`https://mail.nspi.test/mapi/emsmdb/?MailboxId=${mailboxGuid(bob)}@nspi.test`);
    const ab = head(await call(st, "GetAddressBookUrl", w));
    expect(ab.r.cstr16()).toBe(`https://mail.nspi.test/mapi/nspi/?MailboxId=${mailboxGuid(bob)}@nspi.test`);
    const none = head(await call(st, "GetMailboxUrl", new Writer().u32(0).cstr16("/o=x/cn=y").u32(0).finish()));
    expect(none.error).toBe(ecNotFound);
  });
});

describe("NSPI malformed bodies", () => {
  test("every truncation of a valid QueryRows body, and trailing bytes, is Invalid Request Body (12), never another error", async () => {
    const st = await bind();
    const good = queryRowsBody(stat(), 10, [DisplayName, SmtpAddress], [0x10]);
    for (let n = 0; n < good.length; n++) {
      const err = await call(st, "QueryRows", good.subarray(0, n)).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(MapiHttpError);
      expect((err as MapiHttpError).responseCode).toBe(12);
    }
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    await expect(call(st, "QueryRows", trailing)).rejects.toBeInstanceOf(MapiHttpError);
  });

  test("huge counts are refused before anything is allocated; nested restrictions are bounded", async () => {
    const st = await bind();
    const w = new Writer().u32(0).u8(0xff);
    writeStat(w, SPEC_STAT);
    const hugeExplicit = w.u32(0xffffffff).u32(10).u8(0).u32(0).finish();
    await expect(call(st, "QueryRows", hugeExplicit)).rejects.toBeInstanceOf(MapiHttpError);
    const deep = getMatchesBody((x) => { for (let i = 0; i < 1000; i++) x.u8(0x02); x.u8(0x08).u32(SmtpAddress); }, 10, [SmtpAddress]);
    await expect(call(st, "GetMatches", deep)).rejects.toBeInstanceOf(MapiHttpError);
    const names = new Writer().u32(0).u8(0xff).u32(0x7fffffff).u32(0).finish();
    await expect(call(st, "DNToMId", names)).rejects.toBeInstanceOf(MapiHttpError);
  });

  test("random bytes for every request type give a response body or Invalid Request Body, nothing else", async () => {
    const st = await bind();
    let seed = 21;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) & 0xff;
    const types: NspiRequestType[] = ["CompareMIds", "DNToMId", "GetMatches", "GetPropList", "GetProps", "GetSpecialTable", "GetTemplateInfo", "ModLinkAtt", "ModProps", "QueryColumns", "QueryRows", "ResolveNames", "ResortRestriction", "SeekEntries", "UpdateStat", "GetMailboxUrl", "GetAddressBookUrl"];
    for (const t of types) {
      for (let i = 0; i < 40; i++) {
        const b = Uint8Array.from({ length: rnd() % 64 }, rnd);
        const out = await call(st, t, b).then((x) => x, (e: unknown) => e);
        if (out instanceof Uint8Array) expect(out.length).toBeGreaterThanOrEqual(12);
        else expect((out as MapiHttpError).responseCode).toBe(12);
      }
    }
  });

  test("a session bound by one account is refused to another", async () => {
    const st = await bind(alice);
    await expect(call(st, "QueryColumns", new Writer().u32(0).u32(0).u32(0).finish(), bob)).rejects.toBeInstanceOf(MapiHttpError);
  });
});

describe("NSPI over HTTPS", () => {
  test("Bind (upper-case request type, as ruler sends it), QueryRows, Unbind through the transport; a malformed body gets X-ResponseCode 12", async () => {
    const c = new MapiHttpClient(srv.port("HTTPS"), alice.email, PASS);
    const b = new Writer().u32(0).u8(0xff);
    writeStat(b, stat({ totalRecs: 0xffffffff, sortLocale: 2057 }));
    const bound = await c.post("/mapi/nspi/", "BIND", b.u32(0).finish());
    expect(bound.responseCode).toBe("0");
    expect(head(bound.body).error).toBe(ecSuccess);
    const qr = await c.post("/mapi/nspi/", "QueryRows", queryRowsBody(stat({ totalRecs: 0xff }), 100, [DisplayName, SmtpAddress]));
    expect(qr.responseCode).toBe("0");
    const { r } = head(qr.body);
    readOptStat(r);
    const rows = readRows(r)!;
    expect(rows.rows.map((x) => val(x[1]))).toContain("bob@nspi.test");
    const bad = await c.post("/mapi/nspi/", "QueryRows", Uint8Array.of(1, 2, 3));
    // the NSPI calls stream (PROCESSING first), so the final code is in the additional headers after DONE (§2.2.3.3.3)
    expect(bad.preamble).toMatch(/X-ResponseCode: 12\r\n/);
    const un = await c.post("/mapi/nspi/", "Unbind", new Writer().u32(0).u32(0).finish());
    expect(un.responseCode).toBe("0");
  });
});
