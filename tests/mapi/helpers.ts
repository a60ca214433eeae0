/**
 * Shared set-up for the MAPI over HTTP tests: a real server (HTTP, HTTPS,
 * SMTP, submission, IMAP) with the MAPI endpoints and autodiscover
 * mounted, and a small MAPI/HTTP client over node:https that keeps the
 * session cookies of one endpoint (as a client's cookie jar does, per
 * path), sends the common request headers (MS-OXCMAPIHTTP §2.2.3.1) and
 * reads the framed answer (§2.2.7: meta-tags, additional headers, body).
 */
import "../../protocols/index.ts";
import "../../protocols/imap/index.ts";
import "../../protocols/http/autodiscover/index.ts";
import "../../protocols/http/mapi/index.ts";
import http from "node:http";
import https from "node:https";
import type { ListenerName } from "../../src/registry.ts";
import type { DeepPartial } from "../../src/config.ts";
import type { Config } from "../../src/config-types.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";

export { createUser };

const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: false });

export interface MapiEnv {
  srv: TestServer;
  port: number;
  close(): Promise<void>;
}

export async function startMapi(opts: { config?: DeepPartial<Config> } = {}): Promise<MapiEnv> {
  const listeners: ListenerName[] = ["HTTP", "HTTPS", "SMTP", "SUBMISSION", "IMAP"];
  const srv = await startTestServer({ listeners, config: opts.config });
  return { srv, port: srv.port("HTTPS"), close: () => srv.close() };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/**
 * One HTTPS request to 127.0.0.1. `onChunk` sees the response body as it
 * arrives (the streamed MAPI answers), before the whole is resolved.
 */
export function request(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Uint8Array; onChunk?: (text: string) => void; onHeaders?: (headers: RawResponse["headers"]) => void; tls?: boolean },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = opts.body ?? new Uint8Array(0);
    const req = (opts.tls === false ? http : https).request(
      { host: "127.0.0.1", port, method: opts.method ?? "POST", path: opts.path, headers: { ...opts.headers, "content-length": String(body.length) }, ...(opts.tls === false ? {} : { agent, servername: "localhost" }) },
      (res) => {
        opts.onHeaders?.(res.headers);
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          opts.onChunk?.(Buffer.concat(chunks).toString("latin1"));
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(Buffer.from(body));
  });
}

export interface Framed {
  /** PROCESSING, PENDING..., DONE in the order received. */
  meta: string[];
  /** The additional headers after DONE (X-ResponseCode, X-ElapsedTime, X-StartTime), names lower-cased. */
  additional: Record<string, string>;
  /** The response body after the empty line. */
  body: Uint8Array;
}

/** Splits a MAPI/HTTP response body (§2.2.7); throws when the framing is wrong. */
export function parseFramed(raw: Uint8Array): Framed {
  const meta: string[] = [];
  const additional: Record<string, string> = {};
  let pos = 0;
  const line = (): string => {
    for (let i = pos; i + 1 < raw.length; i++) {
      if (raw[i] === 0x0d && raw[i + 1] === 0x0a) {
        const s = Buffer.from(raw.subarray(pos, i)).toString("latin1");
        pos = i + 2;
        return s;
      }
    }
    throw new Error(`unterminated line at ${pos}: ${Buffer.from(raw.subarray(pos, pos + 40)).toString("latin1")}`);
  };
  for (;;) {
    const m = line();
    if (m !== "PROCESSING" && m !== "PENDING" && m !== "DONE") throw new Error(`not a meta-tag: ${m}`);
    meta.push(m);
    if (m === "DONE") break;
  }
  for (;;) {
    const h = line();
    if (h === "") break;
    const i = h.indexOf(":");
    if (i < 0) throw new Error(`not a header: ${h}`);
    additional[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return { meta, additional, body: raw.subarray(pos) };
}

export interface MapiResponse extends RawResponse {
  /** The X-ResponseCode HTTP header as a number (NaN when absent). */
  code: number;
  framed: Framed | null;
  setCookies: string[];
}

let requestCounter = 0;

/** A client of one endpoint (/mapi/emsmdb or /mapi/nspi) for one account, with that endpoint's cookie jar. */
export class MapiClient {
  readonly cookies = new Map<string, string>();

  constructor(
    public env: { port: number },
    public user: string,
    public pass: string,
    public path = "/mapi/emsmdb/",
  ) {}

  get auth(): string {
    return "Basic " + Buffer.from(`${this.user}:${this.pass}`).toString("base64");
  }

  /** The common request headers (§2.2.3.1) and our cookies; `headers` overrides or (with value null) removes them. */
  headers(type: string, headers: Record<string, string | null> = {}): Record<string, string> {
    const h: Record<string, string | null> = {
      authorization: this.auth,
      "content-type": "application/mapi-http",
      "x-requesttype": type,
      "x-requestid": `{E2EA6C1C-E61B-49E9-9CFB-38184F907552}:${++requestCounter}`,
      "x-clientinfo": "{2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}",
      "x-clientapplication": "Outlook/15.0.4815.1002",
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") || null,
      ...headers,
    };
    return Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== null));
  }

  async send(type: string, body: Uint8Array = new Uint8Array(0), opts: { headers?: Record<string, string | null>; path?: string; onChunk?: (text: string) => void } = {}): Promise<MapiResponse> {
    let setCookies: string[] = [];
    // The jar takes the cookies when the headers arrive (a streamed answer's come long before its end).
    const onHeaders = (h: RawResponse["headers"]) => {
      const sc = h["set-cookie"];
      setCookies = Array.isArray(sc) ? sc : sc ? [sc] : [];
      for (const c of setCookies) {
        const [pair] = c.split(";");
        const i = pair!.indexOf("=");
        const name = pair!.slice(0, i).trim();
        const value = pair!.slice(i + 1).trim();
        if (/;\s*max-age=0/i.test(c) || value === "") this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    };
    const r = await request(this.env.port, { path: opts.path ?? this.path, headers: this.headers(type, opts.headers), body, onChunk: opts.onChunk, onHeaders });
    let framed: Framed | null = null;
    try {
      framed = parseFramed(r.body);
    } catch {
      framed = null;
    }
    return { ...r, code: Number(r.headers["x-responsecode"] ?? "NaN"), framed, setCookies };
  }
}
