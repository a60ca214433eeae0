/**
 * The envelope's version and header handling (RequestServerVersion, SOAP
 * 1.2, impersonation, the routing headers clients add) and the start-up
 * operations of misc-ops.ts: GetServerTimeZones, GetUserConfiguration,
 * GetUserPhoto. exchangelib reads our time zone definitions as its free/busy
 * code does.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../helpers/proc.ts";
import { createUser, find, findAll, NS_M, NS_S, NS_T, responseCodes, startEws, type EwsEnv } from "./helpers.ts";

let env: EwsEnv;
const A = "alice@example.test";
const PW = "alice-password-1";
const faultCode = (body: Parameters<typeof find>[0]) => find(body, "detail", "ResponseCode")?.text;

beforeAll(async () => {
  env = await startEws();
  const alice = await createUser(env.srv.store, A, PW);
  await createUser(env.srv.store, "bob@example.test", "bob-password-1");
  await env.srv.store.addAlias("sales@example.test", A);
  await env.srv.store.updateSettings(alice.id, { timeZone: "Europe/Berlin" });
});
afterAll(() => env.close());

const convertDummy = `<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="${A}"/></m:SourceIds></m:ConvertId>`;

test("RequestServerVersion: each known version is echoed in ServerVersionInfo; newer ones are served as Exchange2016", async () => {
  for (const v of ["Exchange2010_SP2", "Exchange2013_SP1", "Exchange2016", "V2017_07_11"]) {
    const r = await env.call(A, PW, convertDummy, { version: v });
    expect(r.status).toBe(200);
    expect(findAll(r.envelope, "ServerVersionInfo")[0]!.attrs.Version).toBe(v);
  }
  for (const v of ["Exchange2019", "V2018_01_08"]) {
    const r = await env.call(A, PW, convertDummy, { version: v });
    expect(findAll(r.envelope, "ServerVersionInfo")[0]!.attrs.Version).toBe("Exchange2016");
  }
  for (const v of ["Exchange1999", "", "exchange2016", "Exchange2016<"]) {
    const r = await env.post(A, PW, `<?xml version="1.0"?><s:Envelope xmlns:s="${NS_S}" xmlns:t="${NS_T}" xmlns:m="${NS_M}"><s:Header><t:RequestServerVersion Version="${v.replace("<", "&lt;")}"/></s:Header><s:Body>${convertDummy}</s:Body></s:Envelope>`);
    expect(r.status).toBe(400);
    expect(r.text).toContain("ErrorInvalidServerVersion");
  }
});

test("no SOAP header at all: served as Exchange2016", async () => {
  const r = await env.post(A, PW, `<s:Envelope xmlns:s="${NS_S}" xmlns:t="${NS_T}" xmlns:m="${NS_M}"><s:Body>${convertDummy}</s:Body></s:Envelope>`);
  expect(r.status).toBe(200);
  expect(r.text).toContain('Version="Exchange2016"');
  expect(r.text).toContain("ErrorInvalidIdMalformed");
});

test("Exchange2007 requests: operations newer than the version are a fault, not a crash", async () => {
  const r = await env.call(A, PW, `<m:GetServerTimeZones/>`, { version: "Exchange2007_SP1" });
  expect(r.status).toBe(400);
  expect(faultCode(r.body)).toBe("ErrorInvalidRequest");
  const photo = await env.call(A, PW, `<m:GetUserPhoto><m:Email>${A}</m:Email><m:SizeRequested>HR96x96</m:SizeRequested></m:GetUserPhoto>`, { version: "Exchange2010_SP2" });
  expect(faultCode(photo.body)).toBe("ErrorInvalidRequest");
});

test("a SOAP 1.2 envelope gets the SOAP 1.1 VersionMismatch fault", async () => {
  const r = await env.post(A, PW, `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:m="${NS_M}"><e:Body><m:GetServerTimeZones/></e:Body></e:Envelope>`, { "content-type": "application/soap+xml; charset=utf-8" });
  expect(r.status).toBe(400);
  expect(r.text).toContain("s:VersionMismatch");
});

test("ExchangeImpersonation: of the caller or an alias is served, of another user ErrorImpersonationDenied", async () => {
  const imp = (who: string) => `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>${who}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`;
  expect((await env.call(A, PW, convertDummy, { header: imp(A) })).status).toBe(200);
  expect((await env.call(A, PW, convertDummy, { header: imp("Sales@Example.test") })).status).toBe(200);
  const other = await env.call(A, PW, convertDummy, { header: imp("bob@example.test") });
  expect(other.status).toBe(400);
  expect(faultCode(other.body)).toBe("ErrorImpersonationDenied");
});

test("X-AnchorMailbox, X-ClientStatistics, X-PreferServerAffinity and client headers are accepted and change nothing", async () => {
  const { envelope } = await import("./helpers.ts");
  const r = await env.post(A, PW, envelope(convertDummy), {
    "x-anchormailbox": "bob@example.test",
    "x-clientstatistics": "MessageId=abc,RequestTime=2026-01-01T00:00:00Z,ResponseTime=12,ResultCode=200;",
    "x-preferserveraffinity": "true",
    "x-clientrequestid": "4bd1c6c1-3cf0-4bc3-9a8f-bb1a7a4a5bd1",
    "user-agent": "Mac OS X/14.0 (23A344); ExchangeWebServices/14.0 (287); Mail/16.0 (3731.500.161)",
  });
  expect(r.status).toBe(200);
  expect(r.text).toContain("ErrorInvalidIdMalformed");
});

test("GetServerTimeZones: all zones with Id and Name, or the full rules of the ones asked for", async () => {
  const all = await env.call(A, PW, `<m:GetServerTimeZones ReturnFullTimeZoneData="false"/>`);
  expect(responseCodes(all.body)).toEqual(["NoError"]);
  const defs = findAll(all.body, "TimeZoneDefinition");
  expect(defs.length).toBeGreaterThan(50);
  expect(defs.map((d) => d.attrs.Id)).toContain("UTC");
  expect(findAll(all.body, "Periods").length).toBe(0);
  const full = await env.call(A, PW, `<m:GetServerTimeZones><m:Ids><t:Id>W. Europe Standard Time</t:Id><t:Id>India Standard Time</t:Id></m:Ids></m:GetServerTimeZones>`);
  const [berlin, india] = findAll(full.body, "TimeZoneDefinition");
  expect(findAll(berlin!, "Period").map((p) => `${p.attrs.Name}:${p.attrs.Bias}`)).toEqual(["Standard:-PT1H", "Daylight:-PT2H"]);
  const tr = findAll(berlin!, "RecurringDayTransition").map((t) => `${find(t, "Month")?.text}/${find(t, "DayOfWeek")?.text}/${find(t, "Occurrence")?.text}@${find(t, "TimeOffset")?.text}`);
  expect(tr).toEqual(["3/Sunday/-1@PT2H", "10/Sunday/-1@PT3H"]);
  expect(findAll(india!, "Period").map((p) => p.attrs.Bias)).toEqual(["-PT5H30M"]);
  expect(findAll(india!, "RecurringDayTransition").length).toBe(0);
  const bad = await env.call(A, PW, `<m:GetServerTimeZones><m:Ids><t:Id>Mars Standard Time</t:Id></m:Ids></m:GetServerTimeZones>`);
  expect(responseCodes(bad.body)).toEqual(["ErrorTimeZone"]);
});

test("GetUserConfiguration: OWA.UserOptions on the root holds the time zone; others are ErrorItemNotFound", async () => {
  const get = (name: string, folder: string, props = "All") =>
    env.call(A, PW, `<m:GetUserConfiguration><m:UserConfigurationName Name="${name}">${folder}</m:UserConfigurationName><m:UserConfigurationProperties>${props}</m:UserConfigurationProperties></m:GetUserConfiguration>`);
  const r = await get("OWA.UserOptions", `<t:DistinguishedFolderId Id="root"/>`);
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const entry = findAll(r.body, "DictionaryEntry")[0]!;
  expect(find(entry, "DictionaryKey", "Value")?.text).toBe("timezone");
  expect(find(entry, "DictionaryValue", "Value")?.text).toBe("W. Europe Standard Time");
  const idOnly = await get("OWA.UserOptions", `<t:DistinguishedFolderId Id="root"/>`, "Id");
  expect(findAll(idOnly.body, "Dictionary").length).toBe(0);
  expect(responseCodes((await get("CategoryList", `<t:DistinguishedFolderId Id="calendar"/>`)).body)).toEqual(["ErrorItemNotFound"]);
  expect(responseCodes((await get("OWA.UserOptions", `<t:DistinguishedFolderId Id="inbox"/>`)).body)).toEqual(["ErrorItemNotFound"]);
  expect(responseCodes((await get("OWA.UserOptions", `<t:DistinguishedFolderId Id="voicemail"/>`)).body)).toEqual(["ErrorFolderNotFound"]);
  expect(responseCodes((await get("OWA.UserOptions", `<t:FolderId Id="garbage"/>`)).body)).toEqual(["ErrorInvalidIdMalformed"]);
  expect(responseCodes((await get("OWA.UserOptions", `<t:DistinguishedFolderId Id="root"/>`, "Everything")).body)).toEqual(["ErrorInvalidRequest"]);
  expect(responseCodes((await env.call(A, PW, `<m:GetUserConfiguration><m:UserConfigurationProperties>All</m:UserConfigurationProperties></m:GetUserConfiguration>`)).body)).toEqual(["ErrorInvalidRequest"]);
});

test("GetUserPhoto: no photos are kept, so ErrorItemNotFound as a single response message; bad sizes ErrorInvalidRequest", async () => {
  const r = await env.call(A, PW, `<m:GetUserPhoto><m:Email>${A}</m:Email><m:SizeRequested>HR96x96</m:SizeRequested></m:GetUserPhoto>`);
  expect(r.status).toBe(200);
  expect(r.body.name).toBe("GetUserPhotoResponse");
  expect(r.body.attrs.ResponseClass).toBe("Error");
  expect(find(r.body, "ResponseCode")?.text).toBe("ErrorItemNotFound");
  const bad = await env.call(A, PW, `<m:GetUserPhoto><m:Email>${A}</m:Email><m:SizeRequested>huge</m:SizeRequested></m:GetUserPhoto>`);
  expect(find(bad.body, "ResponseCode")?.text).toBe("ErrorInvalidRequest");
});

test("GetMailTips: out-of-office of a local recipient, unknown local addresses, aliases' member counts, the size limit", async () => {
  const bob = (await env.srv.store.getAccount("bob@example.test"))!;
  await env.srv.store.updateSettings(bob.id, { oof: { enabled: true, subject: "Away", body: "Back on Monday." } });
  await env.srv.store.addAlias("team@example.test", "alice@example.test");
  await env.srv.store.addAlias("team@example.test", "bob@example.test");
  const mbox = (a: string) => `<t:Mailbox><t:EmailAddress>${a}</t:EmailAddress></t:Mailbox>`;
  const r = await env.call(
    A,
    PW,
    `<m:GetMailTips><m:SendingAs><t:EmailAddress>${A}</t:EmailAddress></m:SendingAs><m:Recipients>${mbox("bob@example.test")}${mbox("nobody@example.test")}${mbox("someone@elsewhere.invalid")}${mbox("team@example.test")}</m:Recipients><m:MailTipsRequested>All</m:MailTipsRequested></m:GetMailTips>`,
  );
  expect(r.status).toBe(200);
  expect(r.body.attrs.ResponseClass).toBe("Success");
  const tips = findAll(r.body, "MailTips");
  expect(tips.length).toBe(4);
  const v = (i: number, ...path: string[]) => find(tips[i], ...path)?.text;
  expect(v(0, "RecipientAddress", "EmailAddress")).toBe("bob@example.test");
  expect(v(0, "OutOfOffice", "ReplyBody", "Message")).toBe("Back on Monday.");
  expect(v(0, "MailboxFull")).toBe("false");
  expect(v(0, "InvalidRecipient")).toBe("false");
  expect(v(0, "MaxMessageSize")).toBe(String(env.srv.ctx.config.limits.maxMessageSize));
  expect(v(1, "InvalidRecipient")).toBe("true");
  expect(v(2, "InvalidRecipient")).toBe("false");
  expect(find(tips[2], "TotalMemberCount")).toBeUndefined();
  expect(v(3, "TotalMemberCount")).toBe("2");
  const only = await env.call(A, PW, `<m:GetMailTips><m:SendingAs><t:EmailAddress>${A}</t:EmailAddress></m:SendingAs><m:Recipients>${mbox(A)}</m:Recipients><m:MailTipsRequested>MaxMessageSize</m:MailTipsRequested></m:GetMailTips>`);
  expect(findAll(only.body, "OutOfOffice").length).toBe(0);
  expect(findAll(only.body, "MaxMessageSize").length).toBe(1);
  const bad = await env.call(A, PW, `<m:GetMailTips><m:SendingAs><t:EmailAddress>${A}</t:EmailAddress></m:SendingAs><m:Recipients/><m:MailTipsRequested>All</m:MailTipsRequested></m:GetMailTips>`);
  expect(bad.body.attrs.ResponseClass).toBe("Error");
  expect(find(bad.body, "ResponseCode")?.text).toBe("ErrorInvalidRequest");
  const many = await env.call(A, PW, `<m:GetMailTips><m:SendingAs><t:EmailAddress>${A}</t:EmailAddress></m:SendingAs><m:Recipients>${mbox(A).repeat(101)}</m:Recipients><m:MailTipsRequested>All</m:MailTipsRequested></m:GetMailTips>`);
  expect(find(many.body, "ResponseCode")?.text).toBe("ErrorExceededFindCountLimit");
});

test("GetInboxRules: the webmail's rules as EWS rules; what EWS cannot state is IsNotSupported; a hand-written script is one rule", async () => {
  const { rulesToSieve, RULES_SCRIPT_NAME } = await import("../../src/sieve/rules.ts");
  const alice = (await env.srv.store.getAccount(A))!;
  await env.srv.store.createFolder(alice.id, "Lists");
  const sieve = env.srv.ctx.storage.sieve;
  const limits = { maxScripts: 10, maxBytes: 65536 };
  const rules = {
    rules: [
      { id: "r1", name: "Lists", enabled: true, match: "all" as const, conditions: [{ field: "from" as const, op: "contains" as const, value: "lists.example" }, { field: "subject" as const, op: "not-contains" as const, value: "urgent" }], actions: [{ type: "fileinto" as const, value: "Lists" }, { type: "mark-read" as const }, { type: "stop" as const }] },
      { id: "r2", name: "Big", enabled: false, match: "any" as const, conditions: [{ field: "size" as const, op: "over" as const, value: "5000" }], actions: [{ type: "discard" as const }] },
      { id: "r3", name: "Exact", enabled: true, match: "all" as const, conditions: [{ field: "subject" as const, op: "is" as const, value: "x" }], actions: [{ type: "flag" as const }] },
    ],
  };
  await sieve.putScript(alice.id, RULES_SCRIPT_NAME, rulesToSieve(rules), limits);
  await sieve.setActive(alice.id, RULES_SCRIPT_NAME);
  const r = await env.call(A, PW, `<m:GetInboxRules><m:MailboxSmtpAddress>${A}</m:MailboxSmtpAddress></m:GetInboxRules>`);
  expect(r.body.name).toBe("GetInboxRulesResponse");
  expect(find(r.body, "ResponseCode")?.text).toBe("NoError");
  const got = findAll(r.body, "Rule");
  expect(got.map((x) => `${find(x, "DisplayName")?.text}|${find(x, "Priority")?.text}|${find(x, "IsEnabled")?.text}|${find(x, "IsNotSupported")?.text}`)).toEqual(["Lists|1|true|false", "Big|2|false|false", "Exact|3|true|true"]);
  expect(find(got[0], "Conditions", "ContainsSenderStrings", "String")?.text).toBe("lists.example");
  expect(find(got[0], "Exceptions", "ContainsSubjectStrings", "String")?.text).toBe("urgent");
  expect(find(got[0], "Actions")!.children.map((k) => k.name)).toEqual(["MarkAsRead", "MoveToFolder", "StopProcessingRules"]);
  expect(find(got[0], "Actions", "MoveToFolder", "FolderId")?.attrs.Id).toBeTruthy();
  expect(find(got[1], "Conditions", "WithinSizeRange", "MinimumSize")?.text).toBe("5000");
  expect(find(got[1], "Actions", "PermanentDelete")?.text).toBe("true");
  expect(find(got[2], "Conditions")).toBeUndefined();

  await sieve.putScript(alice.id, "mine", 'require "fileinto"; if header :is "x-a" "b" { fileinto "Lists"; }', limits);
  await sieve.setActive(alice.id, "mine");
  const raw = await env.call(A, PW, `<m:GetInboxRules/>`);
  expect(findAll(raw.body, "Rule").map((x) => `${find(x, "DisplayName")?.text}|${find(x, "IsNotSupported")?.text}`)).toEqual(["mine|true"]);
  await sieve.setActive(alice.id, null);
  const none = await env.call(A, PW, `<m:GetInboxRules/>`);
  expect(findAll(none.body, "Rule").length).toBe(0);
  const other = await env.call(A, PW, `<m:GetInboxRules><m:MailboxSmtpAddress>bob@example.test</m:MailboxSmtpAddress></m:GetInboxRules>`);
  expect(find(other.body, "ResponseCode")?.text).toBe("ErrorNonExistentMailbox");
});

test("exchangelib reads every time zone definition as its free/busy code does", async () => {
  const r = await run("/usr/bin/python3", [join(import.meta.dir, "exchangelib", "envelope_misc.py")], {
    env: { PB_EWS_HOST: "127.0.0.1", PB_EWS_PORT: String(env.port), EWS_USER: A, EWS_PASS: PW },
    timeoutMs: 50_000,
  });
  if (r.code !== 0) console.error(r.stdout, r.stderr);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("ok: time zones");
}, 55_000);
