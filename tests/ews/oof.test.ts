/**
 * Out-of-office over EWS (MS-OXWSOOF) on the account's one setting: set over
 * EWS, read by ActiveSync Settings/Oof and the webmail's settings API, and
 * answered by the vacation rule when mail arrives over SMTP; set in the
 * webmail, read over EWS; the refusals (another mailbox, a schedule without
 * dates, an empty reply, malformed requests).
 */
import { expect, test } from "bun:test";
import { el, kid, kidText } from "../eas/client.ts";
import { EasClient } from "../eas/client.ts";
import { smtpSend } from "../reliability/lib/conn.ts";
import { ApiClient } from "../webmail/helpers.ts";
import { ewsFixture, find, type XmlElement } from "./helpers.ts";

const A = { email: "olive@example.test", pass: "olive-password-1" };
const B = { email: "pete@example.test", pass: "pete-password-12" };

const mailbox = (addr = A.email) => `<t:Mailbox><t:Name/><t:Address>${addr}</t:Address><t:RoutingType>SMTP</t:RoutingType></t:Mailbox>`;

async function getOof(addr = A.email): Promise<{ status: number; code: string; body: XmlElement }> {
  const r = await env.call(A.email, A.pass, `<m:GetUserOofSettingsRequest>${mailbox(addr)}</m:GetUserOofSettingsRequest>`);
  return { status: r.status, code: find(r.body, "ResponseMessage", "ResponseCode")?.text ?? find(r.body, "detail", "ResponseCode")?.text ?? "(none)", body: r.body };
}

async function setOof(settings: string, addr = A.email): Promise<{ status: number; code: string }> {
  const r = await env.call(A.email, A.pass, `<m:SetUserOofSettingsRequest>${mailbox(addr)}<t:UserOofSettings>${settings}</t:UserOofSettings></m:SetUserOofSettingsRequest>`);
  return { status: r.status, code: find(r.body, "ResponseMessage", "ResponseCode")?.text ?? find(r.body, "detail", "ResponseCode")?.text ?? "(none)" };
}

const replies = (internal: string, external = internal) => `<t:InternalReply><t:Message>${internal}</t:Message></t:InternalReply><t:ExternalReply><t:Message>${external}</t:Message></t:ExternalReply>`;
const { env, accounts } = ewsFixture({ users: [A, B] });

test("GetUserOofSettings of a new account: Disabled, with the ResponseMessage, OofSettings and AllowExternalOof shape", async () => {
  const r = await getOof();
  expect(r.status).toBe(200);
  expect(r.body.name).toBe("GetUserOofSettingsResponse");
  expect(r.code).toBe("NoError");
  expect(find(r.body, "OofSettings", "OofState")?.text).toBe("Disabled");
  expect(find(r.body, "OofSettings", "ExternalAudience")?.text).toBe("All");
  expect(find(r.body, "OofSettings", "Duration", "StartTime")?.text).toMatch(/Z$/);
  expect(find(r.body, "AllowExternalOof")?.text).toBe("All");
});

test("set Enabled over EWS: the store, ActiveSync Settings/Oof and the webmail read the same reply, and an SMTP message gets the vacation answer", async () => {
  expect((await setOof(`<t:OofState>Enabled</t:OofState><t:ExternalAudience>All</t:ExternalAudience>${replies("Away until Monday, EWS.")}`)).code).toBe("NoError");
  const stored = (await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!;
  expect(stored).toMatchObject({ enabled: true, body: "Away until Monday, EWS." });
  expect(stored.start).toBeUndefined();

  // ActiveSync reads the same setting.
  const eas = new EasClient({ host: "127.0.0.1", port: env.port, user: A.email, pass: A.pass, deviceId: "EWSOOF1", version: "16.1" });
  await eas.provision();
  const get = await eas.send("Settings", el("Settings:Settings", el("Settings:Oof", el("Settings:Get", el("Settings:BodyType", "Text")))));
  const g = kid(kid(get.doc!, "Settings:Oof"), "Settings:Get");
  expect(kidText(g, "Settings:OofState")).toBe("1");
  expect(kidText(kid(g, "Settings:OofMessage"), "Settings:ReplyMessage")).toBe("Away until Monday, EWS.");

  // So does the webmail.
  const web = await ApiClient.signIn(`https://127.0.0.1:${env.port}`, { email: A.email, password: A.pass });
  const s = await web.ok<{ oof: { enabled: boolean; body: string } }>("GET", "/api/settings");
  expect(s.oof).toMatchObject({ enabled: true, body: "Away until Monday, EWS." });

  // The vacation rule answers a message from Pete (RFC 3834 auto-reply into his inbox).
  const data = `From: ${B.email}\r\nTo: ${A.email}\r\nSubject: are you there\r\nMessage-ID: <oof.${Date.now()}@example.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello?\r\n`;
  expect((await smtpSend({ port: env.srv.port("SUBMISSION"), from: B.email, to: [A.email], data, auth: { user: B.email, pass: B.pass } })).code).toBe(250);
  const inbox = (await env.srv.store.listFolders(accounts[1]!.id, { itemClass: "mail" })).find((f) => f.name === "INBOX")!;
  const until = Date.now() + 20_000;
  let found = false;
  while (!found && Date.now() < until) {
    const list = await env.srv.store.listMessages(inbox.id);
    for (const msg of list) {
      const raw = new TextDecoder().decode(await env.srv.store.readMessage(msg.id));
      if (raw.includes("Away until Monday, EWS.")) found = true;
    }
    if (!found) await new Promise((r) => setTimeout(r, 200));
  }
  expect(found).toBe(true);
});

test("set in the webmail, read over EWS", async () => {
  const web = await ApiClient.signIn(`https://127.0.0.1:${env.port}`, { email: A.email, password: A.pass });
  const start = Date.UTC(2030, 0, 2, 8, 0, 0);
  const end = Date.UTC(2030, 0, 9, 18, 0, 0);
  await web.ok("PUT", "/api/settings", { oof: { enabled: true, subject: "Away", body: "Written in the webmail.", start, end } });
  const r = await getOof();
  expect(find(r.body, "OofSettings", "OofState")?.text).toBe("Scheduled");
  expect(find(r.body, "OofSettings", "Duration", "StartTime")?.text).toBe("2030-01-02T08:00:00Z");
  expect(find(r.body, "OofSettings", "Duration", "EndTime")?.text).toBe("2030-01-09T18:00:00Z");
  expect(find(r.body, "OofSettings", "InternalReply", "Message")?.text).toBe("Written in the webmail.");
  expect(find(r.body, "OofSettings", "ExternalReply", "Message")?.text).toBe("Written in the webmail.");
});

test("Scheduled keeps its dates; Enabled drops them; Disabled keeps the text for next time", async () => {
  const dur = `<t:Duration><t:StartTime>2031-05-01T00:00:00Z</t:StartTime><t:EndTime>2031-05-10T00:00:00Z</t:EndTime></t:Duration>`;
  expect((await setOof(`<t:OofState>Scheduled</t:OofState><t:ExternalAudience>Known</t:ExternalAudience>${dur}${replies("Holiday.")}`)).code).toBe("NoError");
  let o = (await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!;
  expect(o).toMatchObject({ enabled: true, body: "Holiday.", start: Date.UTC(2031, 4, 1), end: Date.UTC(2031, 4, 10) });
  expect((await setOof(`<t:OofState>Enabled</t:OofState>${replies("Holiday.")}`)).code).toBe("NoError");
  o = (await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!;
  expect(o.start).toBeUndefined();
  expect((await setOof(`<t:OofState>Disabled</t:OofState>${replies("", "")}`)).code).toBe("NoError");
  o = (await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!;
  expect(o).toMatchObject({ enabled: false, body: "Holiday." });
  expect(find((await getOof()).body, "OofSettings", "OofState")?.text).toBe("Disabled");
});

test("different internal and external replies: the internal one is the reply (one text for everyone); HTML is kept as text", async () => {
  expect((await setOof(`<t:OofState>Enabled</t:OofState>${replies("Inside text.", "Outside text.")}`)).code).toBe("NoError");
  expect((await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!.body).toBe("Inside text.");
  expect((await setOof(`<t:OofState>Enabled</t:OofState>${replies("", "Only outside.")}`)).code).toBe("NoError");
  expect((await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!.body).toBe("Only outside.");
  expect((await setOof(`<t:OofState>Enabled</t:OofState>${replies("&lt;html&gt;&lt;body&gt;&lt;p&gt;Gone &amp;amp; away&lt;/p&gt;&lt;/body&gt;&lt;/html&gt;")}`)).code).toBe("NoError");
  expect((await env.srv.store.getAccountById(accounts[0]!.id))!.settings.oof!.body).toBe("Gone & away");
});

test("refusals: another mailbox, a schedule without dates or backwards, no reply text, malformed requests", async () => {
  expect((await getOof(B.email)).code).toBe("ErrorAccessDenied");
  expect((await setOof(`<t:OofState>Disabled</t:OofState>`, B.email)).code).toBe("ErrorAccessDenied");
  expect((await env.srv.store.getAccountById(accounts[1]!.id))!.settings.oof?.enabled ?? false).toBe(false);
  expect((await setOof(`<t:OofState>Scheduled</t:OofState>${replies("x")}`)).code).toBe("ErrorInvalidScheduledOofDuration");
  expect((await setOof(`<t:OofState>Scheduled</t:OofState><t:Duration><t:StartTime>2031-05-10T00:00:00Z</t:StartTime><t:EndTime>2031-05-01T00:00:00Z</t:EndTime></t:Duration>${replies("x")}`)).code).toBe(
    "ErrorInvalidScheduledOofDuration",
  );
  await env.srv.store.updateSettings(accounts[0]!.id, { oof: { enabled: false, subject: "", body: "" } });
  expect((await setOof(`<t:OofState>Enabled</t:OofState>${replies("   ")}`)).code).toBe("ErrorInvalidUserOofSettings");
  const bad = await setOof(`<t:OofState>Sleeping</t:OofState>`);
  expect(bad.status).toBe(400);
  expect(bad.code).toBe("ErrorSchemaValidation");
  const noMailbox = await env.call(A.email, A.pass, `<m:GetUserOofSettingsRequest/>`);
  expect(noMailbox.status).toBe(400);
  const noSettings = await env.call(A.email, A.pass, `<m:SetUserOofSettingsRequest>${mailbox()}</m:SetUserOofSettingsRequest>`);
  expect(noSettings.status).toBe(400);
  expect((await setOof(`<t:OofState>Enabled</t:OofState><t:ExternalAudience>Everyone</t:ExternalAudience>${replies("x")}`)).code).toBe("ErrorSchemaValidation");
});
