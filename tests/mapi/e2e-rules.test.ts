/**
 * End to end for rules over MAPI (MS-OXORULE over MS-OXCROPS): a rule added
 * with RopModifyRules on the Inbox is listed by RopGetRulesTable and then
 * acts on mail delivered over SMTP, seen over IMAP — the MAPI rule became
 * the account's Sieve rules (the webmail's rules script), so delivery runs
 * it. A rule action the server cannot carry out (ruler's OP_DEFER_ACTION,
 * a client-side "start this program" rule) is refused with ecNotSupported
 * and leaves the rules as they were.
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
import type { TaggedValue } from "../../protocols/http/mapi/wire/proptypes.ts";
import { FOLDER, MapiHttpClient, NEW_HANDLE, connectRequest, executeRequest, parseExecuteResponse, readLogonResponse, readRopHead, ropLogon } from "./e2e-client.ts";

const PASS = "e2e-rules-pass-1";
const EMSMDB = "/mapi/emsmdb/";
// MS-OXPROPS / MS-OXORULE §2.2.1.3.1 rule properties.
const PidTagSubject = 0x0037001f;
const PidTagRuleName = 0x6682001f;
const PidTagRuleId = 0x66740014;
const PidTagRuleSequence = 0x66760003;
const PidTagRuleState = 0x66770003;
const PidTagRuleCondition = 0x667900fd;
const PidTagRuleActions = 0x668000fe;
const PidTagRuleProvider = 0x6681001f;
const ST_ENABLED = 0x00000001;

let srv: TestServer;
let alice: Account;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["HTTP", "HTTPS", "SMTP", "IMAP"] });
  alice = await createUser(srv.store, "alice@rules.test", PASS, { displayName: "Alice Rules" });
});

afterAll(async () => {
  await srv?.close();
});

async function session(): Promise<{ c: MapiHttpClient; logonHandle: number; inboxId: bigint }> {
  const c = new MapiHttpClient(srv.port("HTTPS"), alice.email, PASS);
  expect((await c.post(EMSMDB, "Connect", connectRequest(legacyDn(alice)))).responseCode).toBe("0");
  const ex = parseExecuteResponse((await c.post(EMSMDB, "Execute", executeRequest(ropLogon(0, legacyDn(alice)), [NEW_HANDLE]))).body);
  const lr = readLogonResponse(new Reader(ex.rops));
  expect(lr.returnValue).toBe(0);
  return { c, logonHandle: ex.handles[0]!, inboxId: lr.folderIds[FOLDER.inbox]! };
}

/** MS-OXORULE §2.2.5 RuleAction (standard rules: 16-bit counts) with one ActionBlock of `type` and its ActionData. */
function ruleAction(type: number, data: Uint8Array = new Uint8Array()): Uint8Array {
  return new Writer().u16(1).u16(9 + data.length).u8(type).u32(0).u32(0).bytes(data).finish();
}

/** RopModifyRules (MS-OXCROPS §2.2.11.1) adding one rule, then the rules table's RuleName and RuleID (§2.2.11.2, MS-OXCTABL). */
async function addRuleAndList(name: string, actions: Uint8Array): Promise<{ modify: number; names: string[] }> {
  const { c, logonHandle, inboxId } = await session();
  const values: TaggedValue[] = [
    { tag: PidTagRuleName, value: name },
    { tag: PidTagRuleSequence, value: 10 },
    { tag: PidTagRuleState, value: ST_ENABLED },
    // MS-OXCDATA §2.12.2: Content restriction, FuzzyLevelLow SUBSTRING (1), FuzzyLevelHigh IGNORECASE (1).
    { tag: PidTagRuleCondition, value: { type: "content", fuzzyLow: 1, fuzzyHigh: 1, tag: PidTagSubject, value: { tag: PidTagSubject, value: "rulecheck" } } },
    { tag: PidTagRuleActions, value: actions },
    { tag: PidTagRuleProvider, value: "RuleOrganizer" },
  ];
  const rops = new Writer();
  rops.u8(0x02).u8(0).u8(0).u8(1).u64(inboxId).u8(0); // RopOpenFolder Inbox -> 1
  rops.u8(0x41).u8(0).u8(1).u8(0x00).u16(1).u8(0x01).u16(values.length); // RopModifyRules: one RuleData, ROW_ADD
  for (const v of values) writeTaggedValue(rops, v);
  rops.u8(0x3f).u8(0).u8(1).u8(2).u8(0x40); // RopGetRulesTable -> 2, Unicode
  rops.u8(0x12).u8(0).u8(2).u8(0).u16(2).u32(PidTagRuleName).u32(PidTagRuleId); // RopSetColumns
  rops.u8(0x15).u8(0).u8(2).u8(0).u8(1).u16(50); // RopQueryRows
  const ex = await c.post(EMSMDB, "Execute", executeRequest(rops.finish(), [logonHandle, NEW_HANDLE, NEW_HANDLE]));
  expect(ex.responseCode).toBe("0");
  const r = new Reader(parseExecuteResponse(ex.body).rops);
  expect(readRopHead(r, 0x02).returnValue).toBe(0);
  r.u8(); // HasRules
  r.u8(); // IsGhosted
  const modify = readRopHead(r, 0x41).returnValue;
  expect(readRopHead(r, 0x3f).returnValue).toBe(0);
  expect(readRopHead(r, 0x12).returnValue).toBe(0);
  r.u8(); // TableStatus
  expect(readRopHead(r, 0x15).returnValue).toBe(0);
  r.u8(); // Origin
  const n = r.u16();
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = readPropertyRow(r, [PidTagRuleName, PidTagRuleId]);
    if ("value" in row[0]! && typeof row[0].value === "string") names.push(row[0].value);
  }
  return { modify, names };
}

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("rules over MAPI, end to end", () => {
  test("ruler's kind of rule (OP_DEFER_ACTION: run a program on the client) is ecNotSupported and adds nothing", async () => {
    const { modify, names } = await addRuleAndList("client side", ruleAction(0x05, new Uint8Array([0, 0, 0x14])));
    expect(modify).toBe(0x80040102);
    expect(names).not.toContain("client side");
  });

  test("a rule added with RopModifyRules is listed, and delivery over SMTP applies it (seen over IMAP)", async () => {
    const { modify, names } = await addRuleAndList("Mark rulecheck read", ruleAction(0x0b)); // OP_MARK_AS_READ
    expect(modify).toBe(0);
    expect(names).toContain("Mark rulecheck read");

    const send = async (subject: string) =>
      expect((await smtpSend({ port: srv.port("SMTP"), from: "someone@outside.test", to: ["alice@rules.test"], data: `From: <someone@outside.test>\r\nTo: <alice@rules.test>\r\nSubject: ${subject}\r\n\r\nbody\r\n` })).code).toBe(250);
    await send("A RuleCheck message");
    await send("An ordinary message");

    const { c: imap } = await RawImap.connect(srv.port("IMAP"));
    try {
      expect((await imap.cmd(`LOGIN alice@rules.test ${PASS}`)).status).toBe("OK");
      const lines = await waitFor(async () => {
        await imap.cmd("SELECT INBOX");
        const f = await imap.cmd("FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
        const text = f.untagged.join("\n");
        return text.includes("RuleCheck") && text.includes("ordinary") ? f.untagged.filter((l) => l.includes("FETCH")) : null;
      }, "both deliveries");
      const matched = lines.find((l) => l.includes("RuleCheck"))!;
      const other = lines.find((l) => l.includes("ordinary"))!;
      expect(matched).toContain("\\Seen");
      expect(other).not.toContain("\\Seen");
    } finally {
      await imap.cmd("LOGOUT").catch(() => {});
    }
  });
});
