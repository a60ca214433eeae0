/**
 * Shared set-up for the EWS tests: a real server (HTTPS, SMTP, submission,
 * IMAP) with EWS mounted, and a small SOAP client over node:https that
 * accepts the self-signed certificate. `soap()` wraps an operation in an
 * envelope; `parse()` reads the answer with the server's own hardened XML
 * reader (namespace-aware), so tests assert on elements, not on strings.
 */
import "../../protocols/index.ts";
import "../../protocols/imap/index.ts";
import "../../protocols/http/eas/index.ts";
import "../../protocols/http/ews/index.ts";
import "../../protocols/http/autodiscover/index.ts";
import { afterAll, beforeAll } from "bun:test";
import type { ListenerName } from "../../src/registry.ts";
import type { Account } from "../../storage/api.ts";
import { RawImap } from "../imap/client.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { DeepPartial } from "../../src/config.ts";
import type { Config } from "../../src/config-types.ts";
import { httpsRequest } from "../eas/client.ts";
import { parseXml, type XmlElement } from "../../protocols/http/dav/xml.ts";

export const NS_T = "http://schemas.microsoft.com/exchange/services/2006/types";
export const NS_M = "http://schemas.microsoft.com/exchange/services/2006/messages";
export const NS_S = "http://schemas.xmlsoap.org/soap/envelope/";
export const NS_E = "http://schemas.microsoft.com/exchange/services/2006/errors";

export { createUser };
export type { XmlElement };

export interface EwsEnv {
  srv: TestServer;
  port: number;
  /** POSTs a raw body to /EWS/Exchange.asmx. */
  post(user: string, pass: string, body: string | Uint8Array, headers?: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>;
  /** Sends one operation (the XML inside s:Body, with m:/t: prefixes) and returns the parsed s:Body's first child. */
  call(user: string, pass: string, operationXml: string, opts?: { version?: string; header?: string }): Promise<{ status: number; body: XmlElement; envelope: XmlElement; text: string }>;
  close(): Promise<void>;
}

export function envelope(operationXml: string, opts: { version?: string; header?: string } = {}): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<soap:Envelope xmlns:soap="${NS_S}" xmlns:t="${NS_T}" xmlns:m="${NS_M}">` +
    `<soap:Header><t:RequestServerVersion Version="${opts.version ?? "Exchange2016"}"/>${opts.header ?? ""}</soap:Header>` +
    `<soap:Body>${operationXml}</soap:Body></soap:Envelope>`
  );
}

export async function startEws(opts: { dataDir?: string; config?: DeepPartial<Config> } = {}): Promise<EwsEnv> {
  const listeners: ListenerName[] = ["HTTP", "HTTPS", "SMTP", "SUBMISSION", "IMAP"];
  const srv = await startTestServer({ listeners, dataDir: opts.dataDir, config: opts.config });
  const port = srv.port("HTTPS");
  const post: EwsEnv["post"] = async (user, pass, body, headers = {}) => {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const r = await httpsRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/EWS/Exchange.asmx",
      headers: { authorization: "Basic " + Buffer.from(`${user}:${pass}`).toString("base64"), "content-type": "text/xml; charset=utf-8", ...headers },
      body: bytes,
    });
    return { status: r.status, headers: r.headers, text: new TextDecoder().decode(r.body) };
  };
  return {
    srv,
    port,
    post,
    async call(user, pass, operationXml, o = {}) {
      const r = await post(user, pass, envelope(operationXml, o));
      const env = parseXml(r.text, { MAX_BODY: 64 * 1024 * 1024, MAX_DEPTH: 64, MAX_ELEMENTS: 2_000_000, MAX_ATTRS: 64, MAX_NAME: 1024, MAX_ATTR_VALUE: 1024 * 1024 });
      const body = env.children.find((k) => k.ns === NS_S && k.name === "Body");
      if (!body || !body.children[0]) throw new Error(`no SOAP body in: ${r.text.slice(0, 500)}`);
      return { status: r.status, body: body.children[0], envelope: env, text: r.text };
    },
    close: () => srv.close(),
  };
}

/** Child elements by local name (any namespace), depth-first path: find(el, "ResponseMessages", "GetFolderResponseMessage"). */
export function find(el: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let cur = el;
  for (const name of path) {
    cur = cur?.children.find((k) => k.name === name);
    if (!cur) return undefined;
  }
  return cur;
}

/** All descendants with this local name. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const k of e.children) {
      if (k.name === name) out.push(k);
      walk(k);
    }
  };
  walk(el);
  return out;
}

/** The ResponseCode of each response message of an operation response. */
export function responseCodes(body: XmlElement): string[] {
  const msgs = find(body, "ResponseMessages");
  return (msgs?.children ?? []).map((m) => find(m, "ResponseCode")?.text.trim() ?? "(none)");
}

/** A test account: address, password, optional display name. */
export interface EwsUser {
  email: string;
  pass: string;
  displayName?: string;
}

/** What ewsFixture() hands a test file; every field is usable once the file's beforeAll has run. */
export interface EwsFixture {
  /** The server; a stable object that forwards to the one beforeAll started. */
  env: EwsEnv;
  /** The accounts of `users`, in order (filled by beforeAll). */
  accounts: Account[];
  /** With `imap: true`: a plain IMAP session logged in as the first user, for cross-checks. */
  imap: Pick<RawImap, "cmd" | "write">;
}

/**
 * The set-up most EWS test files share: one server for the file (beforeAll),
 * its users, optionally an IMAP session as the first user; all closed in
 * afterAll. More set-up of a file goes in its own beforeAll, which runs after
 * this one (bun runs hooks in the order they are registered).
 */
export function ewsFixture(opts: { users: readonly EwsUser[]; imap?: boolean; config?: DeepPartial<Config> }): EwsFixture {
  let live: EwsEnv | undefined;
  let session: RawImap | undefined;
  const accounts: Account[] = [];
  const started = (): EwsEnv => {
    if (!live) throw new Error("ewsFixture: the server is not started (used outside a test?)");
    return live;
  };
  const logged = (): RawImap => {
    if (!session) throw new Error("ewsFixture: no IMAP session (pass imap: true)");
    return session;
  };
  beforeAll(async () => {
    live = await startEws({ config: opts.config });
    for (const u of opts.users) accounts.push(await createUser(live.srv.store, u.email, u.pass, u.displayName ? { displayName: u.displayName } : undefined));
    if (opts.imap) {
      const first = opts.users[0]!;
      session = (await RawImap.connect(live.srv.port("IMAP"))).c;
      const r = await session.cmd(`LOGIN ${first.email} ${first.pass}`);
      if (r.status !== "OK") throw new Error(`IMAP LOGIN as ${first.email}: ${r.status}`);
    }
  });
  afterAll(async () => {
    session?.write("Z LOGOUT\r\n");
    await live?.close();
  });
  const env: EwsEnv = {
    get srv() {
      return started().srv;
    },
    get port() {
      return started().port;
    },
    post: (...a) => started().post(...a),
    call: (...a) => started().call(...a),
    close: () => started().close(),
  };
  return { env, accounts, imap: { cmd: (...a) => logged().cmd(...a), write: (...a) => logged().write(...a) } };
}
