/**
 * Autodiscover and autoconfig: the POX forms (Outlook "outlook" schema,
 * phones' "mobilesync" schema, MS-ASCMD Autodiscover), the v2 JSON form,
 * Thunderbird's clientConfig and the Apple profile. Shapes are checked
 * element by element; well-formedness and plist structure are checked with
 * independent parsers (python3's xml.etree and plistlib).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config.ts";
import { appleProfile, NS, outlookResponse, thunderbirdConfig } from "../../protocols/http/autodiscover/documents.ts";
import { endpoints } from "../../protocols/http/autodiscover/endpoints.ts";
import { parseXml, xmlKid, xmlKids, xmlText, type XmlElement } from "../../protocols/http/autodiscover/xml.ts";
import { run } from "../helpers/proc.ts";
import { httpsRequest } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import http from "node:http";

let env: EasEnv;
const auth = (u: string, p: string) => "Basic " + Buffer.from(`${u}:${p}`).toString("base64");

beforeAll(async () => {
  env = await startEas();
  await createUser(env.srv.store, "ivy@example.test", "ivy-secret-1", { displayName: "Ivy Ivers" });
  await env.srv.store.addAlias("info@example.test", "ivy@example.test");
});
afterAll(async () => {
  await env.close();
});

function poxRequest(schemaNs: string, email: string, responseSchema: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="${schemaNs}"><Request><EMailAddress>${email}</EMailAddress><AcceptableResponseSchema>${responseSchema}</AcceptableResponseSchema></Request></Autodiscover>`;
}

async function pox(path: string, body: string, o: { host?: string; user?: string; pass?: string } = {}) {
  const r = await httpsRequest({
    host: "127.0.0.1",
    port: env.port,
    method: "POST",
    path,
    headers: { "content-type": "text/xml", ...(o.host ? { host: o.host } : {}), ...(o.user ? { authorization: auth(o.user, o.pass!) } : {}) },
    body: new TextEncoder().encode(body),
  });
  return { status: r.status, text: new TextDecoder().decode(r.body), headers: r.headers };
}

/** python3's own XML parser must accept the document (independent well-formedness check). */
async function pythonWellFormed(xml: string): Promise<void> {
  const r = await run("python3", ["-c", "import sys, xml.etree.ElementTree as ET; ET.fromstring(sys.stdin.buffer.read()); print('ok')"], { input: xml });
  expect(r.stdout.trim()).toBe("ok");
}

describe("POX autodiscover", () => {
  test("mobilesync schema: the ActiveSync URL, on the main host and on autodiscover.<domain>, any path case", async () => {
    for (const [path, host] of [
      ["/autodiscover/autodiscover.xml", undefined],
      ["/Autodiscover/Autodiscover.xml", `autodiscover.example.test:${env.port}`],
      ["/AUTODISCOVER/AUTODISCOVER.XML", undefined],
    ] as const) {
      const r = await pox(path, poxRequest(NS.mobileRequest, "ivy@example.test", NS.mobileResponse), { host, user: "ivy@example.test", pass: "ivy-secret-1" });
      expect(r.status).toBe(200);
      await pythonWellFormed(r.text);
      const doc = parseXml(r.text);
      expect(doc.name).toBe("Autodiscover");
      expect(doc.ns).toBe(NS.response);
      const resp = xmlKid(doc, "Response")!;
      expect(resp.ns).toBe(NS.mobileResponse);
      expect(xmlText(xmlKid(xmlKid(resp, "User"), "EMailAddress"))).toBe("ivy@example.test");
      expect(xmlText(xmlKid(xmlKid(resp, "User"), "DisplayName"))).toBe("Ivy Ivers");
      const server = xmlKid(xmlKid(xmlKid(resp, "Action"), "Settings"), "Server")!;
      expect(xmlText(xmlKid(server, "Type"))).toBe("MobileSync");
      const url = xmlText(xmlKid(server, "Url"));
      expect(url).toBe(`https://mail.pillarbox.test:${env.port}/Microsoft-Server-ActiveSync`);
      expect(xmlText(xmlKid(server, "Name"))).toBe(url);
    }
  });

  test("outlook schema: IMAP/POP3/SMTP protocol settings; an alias of the user works", async () => {
    const r = await pox("/autodiscover/autodiscover.xml", poxRequest(NS.outlookRequest, "info@example.test", NS.outlookResponse), { user: "ivy@example.test", pass: "ivy-secret-1" });
    expect(r.status).toBe(200);
    await pythonWellFormed(r.text);
    const resp = xmlKid(parseXml(r.text), "Response")!;
    expect(resp.ns).toBe(NS.outlookResponse);
    const account = xmlKid(resp, "Account")!;
    expect(xmlText(xmlKid(account, "AccountType"))).toBe("email");
    expect(xmlText(xmlKid(account, "Action"))).toBe("settings");
    const smtp = xmlKids(account, "Protocol").find((p) => xmlText(xmlKid(p, "Type")) === "SMTP")!;
    expect(xmlText(xmlKid(smtp, "Server"))).toBe("mail.pillarbox.test");
    expect(xmlText(xmlKid(smtp, "Port"))).toBe("587");
    expect(xmlText(xmlKid(smtp, "Encryption"))).toBe("TLS");
  });

  test("errors: no credentials 401; another user's address 500; bad XML, DTD entities 600; unknown schema 601", async () => {
    const noAuth = await pox("/autodiscover/autodiscover.xml", poxRequest(NS.mobileRequest, "ivy@example.test", NS.mobileResponse));
    expect(noAuth.status).toBe(401);
    expect(String(noAuth.headers["www-authenticate"])).toContain("Basic");
    const code = (t: string) => xmlText(xmlKid(xmlKid(xmlKid(parseXml(t), "Response"), "Error"), "ErrorCode"));
    const other = await pox("/autodiscover/autodiscover.xml", poxRequest(NS.mobileRequest, "someone@example.test", NS.mobileResponse), { user: "ivy@example.test", pass: "ivy-secret-1" });
    expect(code(other.text)).toBe("500");
    const bad = await pox("/autodiscover/autodiscover.xml", "<Autodiscover><Request>", { user: "ivy@example.test", pass: "ivy-secret-1" });
    expect(code(bad.text)).toBe("600");
    const xxe = await pox(
      "/autodiscover/autodiscover.xml",
      `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Autodiscover xmlns="${NS.mobileRequest}"><Request><EMailAddress>&x;</EMailAddress><AcceptableResponseSchema>${NS.mobileResponse}</AcceptableResponseSchema></Request></Autodiscover>`,
      { user: "ivy@example.test", pass: "ivy-secret-1" },
    );
    expect(code(xxe.text)).toBe("600");
    expect(xxe.text).not.toContain("root:");
    const schema = await pox("/autodiscover/autodiscover.xml", poxRequest(NS.mobileRequest, "ivy@example.test", "urn:unknown"), { user: "ivy@example.test", pass: "ivy-secret-1" });
    expect(code(schema.text)).toBe("601");
  });
});

describe("Autodiscover v2 JSON", () => {
  const get = async (path: string) => {
    const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path, headers: {} });
    return { status: r.status, json: JSON.parse(new TextDecoder().decode(r.body)) as Record<string, string> };
  };
  test("Protocol=ActiveSync and AutodiscoverV1, path and query forms", async () => {
    const a = await get("/autodiscover/autodiscover.json/v1.0/ivy@example.test?Protocol=ActiveSync");
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ Protocol: "ActiveSync", Url: `https://mail.pillarbox.test:${env.port}/Microsoft-Server-ActiveSync` });
    const v1 = await get("/Autodiscover/Autodiscover.json/v1.0/ivy@example.test?Protocol=AutodiscoverV1");
    expect(v1.json).toEqual({ Protocol: "AutodiscoverV1", Url: `https://mail.pillarbox.test:${env.port}/autodiscover/autodiscover.xml` });
    const q = await get("/autodiscover/autodiscover.json?Email=ivy%40example.test&Protocol=activesync");
    expect(q.json.Protocol).toBe("ActiveSync");
  });
  test("unknown protocol 400, foreign domain 404", async () => {
    const p = await get("/autodiscover/autodiscover.json/v1.0/ivy@example.test?Protocol=Ews2");
    expect(p.status).toBe(400);
    expect(p.json.ErrorCode).toBe("ProtocolNotSupported");
    const d = await get("/autodiscover/autodiscover.json/v1.0/someone@elsewhere.test?Protocol=ActiveSync");
    expect(d.status).toBe(404);
  });
});

function checkClientConfig(xml: string, domain: string): XmlElement {
  const doc = parseXml(xml);
  expect(doc.name).toBe("clientConfig");
  expect(doc.attrs.version).toBe("1.1");
  const prov = xmlKid(doc, "emailProvider")!;
  expect(prov.attrs.id).toBe(domain);
  expect(xmlText(xmlKid(prov, "domain"))).toBe(domain);
  expect(xmlText(xmlKid(prov, "displayName"))).not.toBe("");
  for (const s of [...xmlKids(prov, "incomingServer"), ...xmlKids(prov, "outgoingServer")]) {
    expect(["imap", "pop3", "smtp"]).toContain(s.attrs.type);
    expect(xmlText(xmlKid(s, "hostname"))).toBe("mail.pillarbox.test");
    expect(Number(xmlText(xmlKid(s, "port")))).toBeGreaterThan(0);
    expect(["SSL", "STARTTLS"]).toContain(xmlText(xmlKid(s, "socketType")));
    expect(xmlText(xmlKid(s, "authentication"))).toBe("password-cleartext");
    expect(xmlText(xmlKid(s, "username"))).toBe("%EMAILADDRESS%");
  }
  return prov;
}

describe("Thunderbird autoconfig", () => {
  test("both paths answer with a valid clientConfig; a foreign domain gets 404", async () => {
    for (const path of ["/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ivy%40example.test", "/mail/config-v1.1.xml?emailaddress=ivy%40example.test"]) {
      const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path, headers: {} });
      expect(r.status).toBe(200);
      const xml = new TextDecoder().decode(r.body);
      await pythonWellFormed(xml);
      const prov = checkClientConfig(xml, "example.test");
      expect(xmlKids(prov, "outgoingServer").map((s) => `${xmlText(xmlKid(s, "port"))}/${xmlText(xmlKid(s, "socketType"))}`)).toContain("587/STARTTLS");
    }
    const viaHost = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path: "/mail/config-v1.1.xml", headers: { host: "autoconfig.example.test" } });
    expect(viaHost.status).toBe(200);
    const foreign = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path: "/mail/config-v1.1.xml?emailaddress=x%40elsewhere.test", headers: {} });
    expect(foreign.status).toBe(404);
  });

  test("a server with every listener: IMAP, POP3 and SMTP entries, implicit TLS first", async () => {
    const cfg = defaultConfig();
    cfg.hostname = "mail.pillarbox.test";
    const ep = endpoints(cfg);
    const xml = thunderbirdConfig(ep, "example.test", "Example");
    await pythonWellFormed(xml);
    const prov = checkClientConfig(xml, "example.test");
    expect(xmlKids(prov, "incomingServer").map((s) => `${s.attrs.type}:${xmlText(xmlKid(s, "port"))}:${xmlText(xmlKid(s, "socketType"))}`)).toEqual(["imap:993:SSL", "imap:143:STARTTLS", "pop3:995:SSL", "pop3:110:STARTTLS"]);
    expect(xmlKids(prov, "outgoingServer").map((s) => `${xmlText(xmlKid(s, "port"))}:${xmlText(xmlKid(s, "socketType"))}`)).toEqual(["465:SSL", "587:STARTTLS"]);
    const outlook = parseXml(outlookResponse(ep, { displayName: "Ivy", email: "ivy@example.test" }));
    const protos = xmlKids(xmlKid(xmlKid(outlook, "Response"), "Account"), "Protocol").map((p) => `${xmlText(xmlKid(p, "Type"))}:${xmlText(xmlKid(p, "Port"))}`);
    // The EWS sections (EXCH, EXPR: no port, the URL says it) come first.
    expect(protos).toEqual(["EXCH:", "EXPR:", "IMAP:993", "POP3:995", "SMTP:465"]);
  });
});

describe("Apple configuration profile", () => {
  async function plist(xml: string): Promise<Record<string, unknown>> {
    const r = await run("python3", ["-c", "import sys, plistlib, json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read()), default=str))"], { input: xml });
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }
  test("the EAS profile at its authenticated URL parses as a plist with the account", async () => {
    const none = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path: "/autodiscover/pillarbox.mobileconfig?type=eas", headers: {} });
    expect(none.status).toBe(401);
    const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path: "/autodiscover/pillarbox.mobileconfig?type=eas", headers: { authorization: auth("ivy@example.test", "ivy-secret-1") } });
    expect(r.status).toBe(200);
    expect(String(r.headers["content-type"])).toBe("application/x-apple-aspen-config");
    const p = await plist(new TextDecoder().decode(r.body));
    expect(p.PayloadType).toBe("Configuration");
    const acct = (p.PayloadContent as Record<string, unknown>[])[0]!;
    expect(acct.PayloadType).toBe("com.apple.eas.account");
    expect(acct.EmailAddress).toBe("ivy@example.test");
    expect(acct.Host).toBe(`mail.pillarbox.test:${env.port}`);
    expect(acct.SSL).toBe(true);
    expect(JSON.stringify(p)).not.toContain("ivy-secret-1");
  });
  test("the IMAP+SMTP profile", async () => {
    const cfg = defaultConfig();
    cfg.hostname = "mail.pillarbox.test";
    const p = await plist(appleProfile(endpoints(cfg), { email: "ivy@example.test", displayName: "Ivy" }, "imap")!);
    const acct = (p.PayloadContent as Record<string, unknown>[])[0]!;
    expect(acct.PayloadType).toBe("com.apple.mail.managed");
    expect(acct.EmailAccountType).toBe("EmailTypeIMAP");
    expect(acct.IncomingMailServerPortNumber).toBe(993);
    expect(acct.OutgoingMailServerPortNumber).toBe(465);
    expect(acct.IncomingMailServerUseSSL).toBe(true);
  });
});

describe("plain HTTP", () => {
  const plain = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: env.srv.port("HTTP"), method, path, headers }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    });
  test("Thunderbird autoconfig answers over plain HTTP; ActiveSync and POX autodiscover are sent to HTTPS", async () => {
    const r = await plain("GET", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ivy%40example.test", { host: "autoconfig.example.test" });
    expect(r.status).toBe(200);
    checkClientConfig(r.body, "example.test");
    const eas = await plain("POST", "/Microsoft-Server-ActiveSync?Cmd=FolderSync&DeviceId=X&DeviceType=Y");
    expect(eas.status).toBe(308);
    expect(String(eas.headers.location)).toStartWith("https://");
    const ad = await plain("POST", "/autodiscover/autodiscover.xml");
    expect(ad.status).toBe(308);
  });
});
