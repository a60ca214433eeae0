/**
 * Autodiscover for EWS over real sockets: the POX "outlook" response's
 * EXCH/EXPR sections (MS-OXDSCLI), the v2 JSON answer for Protocol=EWS,
 * SOAP autodiscover (MS-OXWSADISC GetUserSettings / GetDomainSettings) with
 * its errors, and exchangelib's own discovery code finding the endpoint.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NS } from "../../protocols/http/autodiscover/documents.ts";
import { parseXml, xmlKid, xmlKids, xmlText, type XmlElement } from "../../protocols/http/autodiscover/xml.ts";
import { httpsRequest } from "../eas/client.ts";
import { run } from "../helpers/proc.ts";
import { createUser, startEws, type EwsEnv } from "./helpers.ts";

let env: EwsEnv;
const U = "ivy@example.test";
const PW = "ivy-secret-1";
const NS_AD = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/";
const NS_WSA = "http://www.w3.org/2005/08/addressing";
const auth = (u: string, p: string) => "Basic " + Buffer.from(`${u}:${p}`).toString("base64");

beforeAll(async () => {
  env = await startEws();
  await createUser(env.srv.store, U, PW, { displayName: "Ivy Ivers" });
  await createUser(env.srv.store, "max@example.test", "max-secret-1");
  await env.srv.store.addAlias("info@example.test", U);
});
afterAll(() => env.close());

async function post(path: string, body: string, o: { user?: string; pass?: string; method?: string } = {}) {
  const r = await httpsRequest({
    host: "127.0.0.1",
    port: env.port,
    method: o.method ?? "POST",
    path,
    headers: { "content-type": "text/xml; charset=utf-8", ...(o.user ? { authorization: auth(o.user, o.pass!) } : {}) },
    body: new TextEncoder().encode(body),
  });
  return { status: r.status, text: new TextDecoder().decode(r.body), headers: r.headers };
}

const ewsUrl = () => `https://mail.pillarbox.test:${env.port}/EWS/Exchange.asmx`;

describe("POX outlook response", () => {
  const request = (email: string) =>
    `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="${NS.outlookRequest}"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>${NS.outlookResponse}</AcceptableResponseSchema></Request></Autodiscover>`;

  test("EXCH and EXPR name the EWS URL, the server version, Basic auth; IMAP/SMTP sections stay", async () => {
    const r = await post("/Autodiscover/Autodiscover.xml", request(U), { user: U, pass: PW });
    expect(r.status).toBe(200);
    const resp = xmlKid(parseXml(r.text), "Response")!;
    const user = xmlKid(resp, "User")!;
    expect(xmlText(xmlKid(user, "AutoDiscoverSMTPAddress"))).toBe(U);
    expect(xmlText(xmlKid(user, "DeploymentId"))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const account = xmlKid(resp, "Account")!;
    const protocols = xmlKids(account, "Protocol");
    const byType = (t: string) => protocols.find((p) => xmlText(xmlKid(p, "Type")) === t);
    for (const type of ["EXCH", "EXPR"]) {
      const p = byType(type)!;
      expect(p).toBeDefined();
      expect(xmlText(xmlKid(p, "EwsUrl"))).toBe(ewsUrl());
      expect(xmlText(xmlKid(p, "ASUrl"))).toBe(ewsUrl());
      expect(xmlText(xmlKid(p, "OOFUrl"))).toBe(ewsUrl());
      expect(xmlText(xmlKid(p, "AuthPackage"))).toBe("basic");
      expect(xmlText(xmlKid(p, "Server"))).toBe("mail.pillarbox.test");
      // MS-OXDSCLI ServerVersion: 0111 | major 15 | minor 1 | flag | build.
      const v = parseInt(xmlText(xmlKid(p, "ServerVersion")), 16);
      expect(v >>> 28).toBe(7);
      expect((v >>> 22) & 0x3f).toBe(15);
      expect((v >>> 16) & 0x3f).toBe(1);
    }
    expect(byType("IMAP")).toBeDefined();
    expect(byType("SMTP")).toBeDefined();
  });

  test("an alias's request answers with the primary address; another user's address is error 500", async () => {
    const alias = await post("/autodiscover/autodiscover.xml", request("info@example.test"), { user: U, pass: PW });
    expect(xmlText(xmlKid(xmlKid(xmlKid(parseXml(alias.text), "Response"), "User"), "AutoDiscoverSMTPAddress"))).toBe(U);
    expect(alias.text).toContain("EwsUrl");
    const other = await post("/autodiscover/autodiscover.xml", request("max@example.test"), { user: U, pass: PW });
    expect(other.text).toContain("<ErrorCode>500</ErrorCode>");
    expect(other.text).not.toContain("EwsUrl");
  });
});

describe("Autodiscover v2 JSON", () => {
  const get = async (path: string) => {
    const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path, headers: {} });
    return { status: r.status, json: JSON.parse(new TextDecoder().decode(r.body)) as Record<string, string> };
  };
  test("Protocol=EWS in the path and the query form", async () => {
    expect((await get(`/autodiscover/autodiscover.json/v1.0/${U}?Protocol=EWS`)).json).toEqual({ Protocol: "EWS", Url: ewsUrl() });
    const q = await get(`/Autodiscover/Autodiscover.json?Email=${encodeURIComponent(U)}&Protocol=ews`);
    expect(q.status).toBe(200);
    expect(q.json.Url).toBe(ewsUrl());
  });
  test("an unknown protocol lists EWS among the supported values", async () => {
    const r = await get(`/autodiscover/autodiscover.json/v1.0/${U}?Protocol=Rest`);
    expect(r.status).toBe(400);
    expect(r.json.ErrorMessage).toContain("EWS");
  });
});

describe("SOAP autodiscover (MS-OXWSADISC)", () => {
  const envelope = (action: string, body: string) =>
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS_SOAP}" xmlns:a="${NS_AD}" xmlns:wsa="${NS_WSA}">` +
    `<soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/${action}</wsa:Action>` +
    `<wsa:To>https://autodiscover.example.test/autodiscover/autodiscover.svc</wsa:To></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
  const userSettings = (users: string[], settings: string[]) =>
    envelope(
      "GetUserSettings",
      `<a:GetUserSettingsRequestMessage><a:Request><a:Users>${users.map((u) => `<a:User><a:Mailbox>${u}</a:Mailbox></a:User>`).join("")}</a:Users>` +
        `<a:RequestedSettings>${settings.map((s) => `<a:Setting>${s}</a:Setting>`).join("")}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage>`,
    );
  const kid = (e: XmlElement | undefined, name: string) => xmlKid(e, name, NS_AD);

  test("GetUserSettings: values for what we have, SettingIsNotAvailable / InvalidSetting for the rest, the response Action", async () => {
    const r = await post("/autodiscover/autodiscover.svc", userSettings([U], ["UserDisplayName", "ExternalEwsUrl", "InternalEwsUrl", "EwsSupportedSchemas", "CasVersion", "UserDeploymentId", "AutoDiscoverSMTPAddress", "UserDN", "NoSuchSetting"]), { user: U, pass: PW });
    expect(r.status).toBe(200);
    const doc = parseXml(r.text);
    const header = xmlKid(doc, "Header", NS_SOAP);
    expect(xmlText(xmlKid(header, "Action", NS_WSA))).toBe("http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse");
    expect(xmlText(kid(xmlKid(header, "ServerVersionInfo", NS_AD), "MajorVersion"))).toBe("15");
    const response = kid(kid(xmlKid(doc, "Body", NS_SOAP), "GetUserSettingsResponseMessage"), "Response");
    expect(xmlText(kid(response, "ErrorCode"))).toBe("NoError");
    const ur = xmlKids(kid(response, "UserResponses"), "UserResponse", NS_AD);
    expect(ur.length).toBe(1);
    expect(xmlText(kid(ur[0], "ErrorCode"))).toBe("NoError");
    const settings = Object.fromEntries(xmlKids(kid(ur[0], "UserSettings"), "UserSetting", NS_AD).map((s) => [xmlText(kid(s, "Name")), xmlText(kid(s, "Value"))]));
    expect(settings.UserDisplayName).toBe("Ivy Ivers");
    expect(settings.ExternalEwsUrl).toBe(ewsUrl());
    expect(settings.InternalEwsUrl).toBe(ewsUrl());
    expect(settings.EwsSupportedSchemas!.split(", ")).toContain("Exchange2016");
    expect(settings.CasVersion).toMatch(/^15\.01\.\d{4}\.\d{3}$/);
    expect(settings.AutoDiscoverSMTPAddress).toBe(U);
    const errors = Object.fromEntries(xmlKids(kid(ur[0], "UserSettingErrors"), "UserSettingError", NS_AD).map((s) => [xmlText(kid(s, "SettingName")), xmlText(kid(s, "ErrorCode"))]));
    expect(errors).toEqual({ UserDN: "SettingIsNotAvailable", NoSuchSetting: "InvalidSetting" });
  });

  test("several users: another account's address is InvalidUser, an alias is answered; /wssecurity and any case", async () => {
    const r = await post("/AutoDiscover/AutoDiscover.svc/WSSecurity", userSettings(["max@example.test", "info@example.test", "nobody@nowhere.test"], ["ExternalEwsUrl"]), { user: U, pass: PW });
    expect(r.status).toBe(200);
    const ur = xmlKids(kid(kid(kid(xmlKid(parseXml(r.text), "Body", NS_SOAP), "GetUserSettingsResponseMessage"), "Response"), "UserResponses"), "UserResponse", NS_AD);
    expect(ur.map((u) => xmlText(kid(u, "ErrorCode")))).toEqual(["InvalidUser", "NoError", "InvalidUser"]);
    expect(r.text.split("ExternalEwsUrl").length - 1).toBe(1);
  });

  test("GetDomainSettings: the EWS URL of our domain; a foreign domain is InvalidDomain", async () => {
    const body = envelope(
      "GetDomainSettings",
      `<a:GetDomainSettingsRequestMessage><a:Request><a:Domains><a:Domain>example.test</a:Domain><a:Domain>elsewhere.test</a:Domain></a:Domains><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>ExternalEwsVersion</a:Setting></a:RequestedSettings></a:Request></a:GetDomainSettingsRequestMessage>`,
    );
    const r = await post("/autodiscover/autodiscover.svc", body, { user: U, pass: PW });
    expect(r.status).toBe(200);
    const doc = parseXml(r.text);
    expect(xmlText(xmlKid(xmlKid(doc, "Header", NS_SOAP), "Action", NS_WSA))).toEndWith("/GetDomainSettingsResponse");
    const dr = xmlKids(kid(kid(kid(xmlKid(doc, "Body", NS_SOAP), "GetDomainSettingsResponseMessage"), "Response"), "DomainResponses"), "DomainResponse", NS_AD);
    expect(dr.map((d) => xmlText(kid(d, "ErrorCode")))).toEqual(["NoError", "InvalidDomain"]);
    const values = xmlKids(kid(dr[0], "DomainSettings"), "DomainSetting", NS_AD).map((s) => xmlText(kid(s, "Value")));
    expect(values[0]).toBe(ewsUrl());
  });

  test("errors: 401 without credentials, 405 for GET, request-level InvalidRequest, faults for non-SOAP and XXE, 413 past 64 KB", async () => {
    expect((await post("/autodiscover/autodiscover.svc", userSettings([U], ["ExternalEwsUrl"]))).status).toBe(401);
    expect((await post("/autodiscover/autodiscover.svc", userSettings([U], ["ExternalEwsUrl"]), { user: U, pass: "wrong" })).status).toBe(401);
    expect((await post("/autodiscover/autodiscover.svc", "", { user: U, pass: PW, method: "GET" })).status).toBe(405);
    const none = await post("/autodiscover/autodiscover.svc", userSettings([], ["ExternalEwsUrl"]), { user: U, pass: PW });
    expect(none.status).toBe(200);
    expect(none.text).toContain("<ErrorCode>InvalidRequest</ErrorCode>");
    const noSettings = await post("/autodiscover/autodiscover.svc", userSettings([U], []), { user: U, pass: PW });
    expect(noSettings.text).toContain("<ErrorCode>InvalidRequest</ErrorCode>");
    const many = await post("/autodiscover/autodiscover.svc", userSettings(Array.from({ length: 101 }, (_, i) => `u${i}@example.test`), ["ExternalEwsUrl"]), { user: U, pass: PW });
    expect(many.text).toContain("<ErrorCode>InvalidRequest</ErrorCode>");
    const bad = await post("/autodiscover/autodiscover.svc", "<soap:Envelope", { user: U, pass: PW });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("Fault");
    const xxe = await post(
      "/autodiscover/autodiscover.svc",
      `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + userSettings(["&x;"], ["ExternalEwsUrl"]).replace(/^<\?xml[^>]*>/, ""),
      { user: U, pass: PW },
    );
    expect(xxe.status).toBe(400);
    expect(xxe.text).not.toContain("root:");
    const unknown = await post("/autodiscover/autodiscover.svc", envelope("GetOrganizationRelationshipSettings", `<a:GetOrganizationRelationshipSettingsRequestMessage/>`), { user: U, pass: PW });
    expect(unknown.status).toBe(400);
    const big = await post("/autodiscover/autodiscover.svc", userSettings([U], ["x".repeat(70 * 1024)]), { user: U, pass: PW });
    expect(big.status).toBe(413);
  });
});

test("exchangelib: its POX discovery finds the EWS URL and version; its SOAP GetUserSettings reads our answer", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "ews-ad-"));
  try {
    const r = await run("/usr/bin/python3", [join(import.meta.dir, "exchangelib", "autodiscover.py")], {
      // TMPDIR: exchangelib keeps an autodiscover cache file in the temp directory; a fresh one per run.
      env: { TMPDIR: tmp, PB_EWS_HOST: "127.0.0.1", PB_EWS_PORT: String(env.port), PB_HOSTNAME: "mail.pillarbox.test", EWS_USER: U, EWS_PASS: PW, EWS_HOST_MAP: "" },
      timeoutMs: 55_000,
    });
    if (r.code !== 0) console.error(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ok: autodiscover");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 60_000);
