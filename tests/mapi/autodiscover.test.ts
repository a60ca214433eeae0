/**
 * Autodiscover for MAPI over HTTP: the POX "outlook" response's mapiHttp
 * section for a client that sends X-MapiHttpCapability (MS-OXDSCLI
 * §2.2.4.1.1.2.1.1, the request header of §2.2.3.1), User/LegacyDN, the
 * JSON v2 Protocol=MapiHttp answer, and the identities behind them
 * (protocols/http/mapi/identity.ts). The URLs it names are then used as a
 * client would: PING on both answers X-ResponseCode 0.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, MapiClient, request, startMapi, type MapiEnv } from "./helpers.ts";
import { accountIdFromLegacyDn, legacyDn, mailboxGuid, mailboxGuidBytes, mapiUrls } from "../../protocols/http/mapi/identity.ts";
import { parseXml, type XmlElement } from "../../protocols/http/dav/xml.ts";
import type { Account } from "../../storage/api.ts";

const A = "alice@adm.test";
const PW = "correct horse battery";
const NS_REQ = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const NS_RESP = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

let env: MapiEnv;
let alice: Account;

beforeAll(async () => {
  env = await startMapi();
  alice = await createUser(env.srv.store, A, PW);
});

afterAll(async () => {
  await env.close();
});

const auth = (user = A) => "Basic " + Buffer.from(`${user}:${PW}`).toString("base64");

/** The request ruler sends (autodiscover.go autodiscoverXML), with or without the MAPI capability header. */
async function pox(headers: Record<string, string> = {}): Promise<{ status: number; doc: XmlElement; text: string }> {
  const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="${NS_REQ}"><Request><EMailAddress>${A}</EMailAddress><AcceptableResponseSchema>${NS_RESP}</AcceptableResponseSchema></Request></Autodiscover>`;
  const r = await request(env.port, { path: "/autodiscover/autodiscover.xml", headers: { authorization: auth(), "content-type": "text/xml", ...headers }, body: new TextEncoder().encode(body) });
  const text = new TextDecoder().decode(r.body);
  return { status: r.status, doc: parseXml(text), text };
}

function kid(el: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let cur = el;
  for (const n of path) cur = cur?.children.find((k) => k.name === n);
  return cur;
}

function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs[name];
}

describe("identity", () => {
  test("the legacy DN names the account and reads back to its id; other DNs do not", () => {
    const dn = legacyDn(alice);
    expect(dn).toBe(`/o=Pillarbox/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=${alice.id.toString(16).padStart(8, "0")}-alice`);
    expect(accountIdFromLegacyDn(dn)).toBe(alice.id);
    expect(accountIdFromLegacyDn(dn.toUpperCase() + "\0")).toBe(alice.id);
    expect(accountIdFromLegacyDn("/o=Other/ou=x/cn=Recipients/cn=00000001-a")).toBeNull();
    expect(accountIdFromLegacyDn(dn + "/cn=more")).toBeNull();
    expect(accountIdFromLegacyDn(dn.replace(/cn=[0-9a-f]{8}/, "cn=00000000"))).toBeNull();
    // Characters a DN's cn must not carry are replaced.
    expect(legacyDn({ id: 7, email: "a/b=c@x.test" })).toMatch(/\/cn=00000007-a_b_c$/);
  });

  test("the mailbox GUID is stable per account, distinct between accounts, a version-5 layout, and its wire bytes are the MS-DTYP order", () => {
    const g = mailboxGuid(alice);
    expect(g).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(mailboxGuid({ id: alice.id })).toBe(g);
    expect(mailboxGuid({ id: alice.id + 1 })).not.toBe(g);
    const b = Buffer.from(mailboxGuidBytes(alice)).toString("hex");
    const h = g.replace(/-/g, "");
    const le = (s: string) => s.match(/../g)!.reverse().join("");
    expect(b).toBe(le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16));
  });
});

describe("POX autodiscover (MS-OXDSCLI)", () => {
  test("with X-MapiHttpCapability: 1 the mapiHttp protocol comes first with the EMSMDB and NSPI URLs; User has the LegacyDN", async () => {
    const r = await pox({ "x-mapihttpcapability": "1", "x-anchormailbox": A });
    expect(r.status).toBe(200);
    const resp = kid(r.doc, "Response")!;
    expect(resp.ns).toBe(NS_RESP);
    expect(kid(resp, "User", "LegacyDN")?.text).toBe(legacyDn(alice));
    expect(kid(resp, "User", "AutoDiscoverSMTPAddress")?.text).toBe(A);
    const protocols = kid(resp, "Account")!.children.filter((k) => k.name === "Protocol");
    const first = protocols[0]!;
    expect(attr(first, "Type")).toBe("mapiHttp");
    expect(attr(first, "Version")).toBe("1");
    const base = `https://${env.srv.config.hostname}:${env.port}`;
    const urls = mapiUrls(base, alice);
    expect(urls.emsmdb).toBe(`${base}/mapi/emsmdb/?MailboxId=${mailboxGuid(alice)}@adm.test`);
    expect(kid(first, "MailStore", "InternalUrl")?.text).toBe(urls.emsmdb);
    expect(kid(first, "MailStore", "ExternalUrl")?.text).toBe(urls.emsmdb);
    expect(kid(first, "AddressBook", "InternalUrl")?.text).toBe(urls.nspi);
    expect(kid(first, "AddressBook", "ExternalUrl")?.text).toBe(urls.nspi);
    // The EWS sections stay.
    expect(protocols.some((p) => kid(p, "Type")?.text === "EXPR")).toBe(true);
    // Exactly one mapiHttp section.
    expect(protocols.filter((p) => attr(p, "Type") === "mapiHttp").length).toBe(1);
  });

  test("without the capability header (or with 0 or junk) there is no mapiHttp section, but the LegacyDN is there", async () => {
    const variants: Record<string, string>[] = [{}, { "x-mapihttpcapability": "0" }, { "x-mapihttpcapability": "yes" }];
    for (const h of variants) {
      const r = await pox(h);
      expect(r.status).toBe(200);
      expect(r.text).not.toContain("mapiHttp");
      expect(kid(r.doc, "Response", "User", "LegacyDN")?.text).toBe(legacyDn(alice));
    }
  });

  test("the URLs it names work: PING on both endpoints (path and MailboxId as given) answers X-ResponseCode 0", async () => {
    const r = await pox({ "x-mapihttpcapability": "1" });
    const first = kid(r.doc, "Response", "Account")!.children.find((k) => k.name === "Protocol")!;
    for (const u of [kid(first, "MailStore", "ExternalUrl")!.text, kid(first, "AddressBook", "ExternalUrl")!.text]) {
      const url = new URL(u);
      const c = new MapiClient(env, A, PW, url.pathname + url.search);
      const ping = await c.send("PING");
      expect(ping.status).toBe(200);
      expect(ping.code).toBe(0);
    }
  });
});

describe("Autodiscover v2 JSON", () => {
  test("Protocol=MapiHttp names the EMSMDB endpoint (no MailboxId: the answer is anonymous); the unknown-protocol error lists it", async () => {
    const r = await request(env.port, { method: "GET", path: `/autodiscover/autodiscover.json/v1.0/${A}?Protocol=MapiHttp` });
    expect(r.status).toBe(200);
    const j = JSON.parse(new TextDecoder().decode(r.body)) as { Protocol: string; Url: string };
    expect(j.Protocol).toBe("MapiHttp");
    expect(j.Url).toBe(`https://${env.srv.config.hostname}:${env.port}/mapi/emsmdb/`);
    // The same answer for an address that has no account (nothing revealed).
    const nobody = await request(env.port, { method: "GET", path: `/autodiscover/autodiscover.json/v1.0/nobody@adm.test?Protocol=mapihttp` });
    expect(JSON.parse(new TextDecoder().decode(nobody.body))).toEqual(j);
    const bad = await request(env.port, { method: "GET", path: `/autodiscover/autodiscover.json/v1.0/${A}?Protocol=Nope` });
    expect(bad.status).toBe(400);
    expect(new TextDecoder().decode(bad.body)).toContain("MapiHttp");
  });
});
