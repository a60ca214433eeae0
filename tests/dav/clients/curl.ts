/**
 * Raw DAV requests with curl (a real client, in CI as a Debian package):
 * one request, the status, the response headers and the body bytes.
 * Used by the curl scenario and by the other scenarios to change the server
 * side behind a client's back (a remote edit before a conflict).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../helpers/proc.ts";
import type { Peer } from "./peers.ts";

export interface CurlResponse {
  status: number;
  /** Lower-case header names; the last value wins. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface CurlOptions {
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Another user (same password), or null for no credentials. */
  user?: string | null;
  timeoutMs?: number;
}

export async function curl(p: Peer, method: string, url: string, opts: CurlOptions = {}): Promise<CurlResponse> {
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-curl-"));
  try {
    const args = ["-sS", "--cacert", p.caFile, "-X", method, "-D", join(dir, "h"), "-o", join(dir, "b"), "--max-time", "20"];
    if (opts.user !== null) args.push("-u", `${opts.user ?? p.user}:${p.password}`);
    const reqHeaders: Record<string, string> = { ...opts.headers };
    // curl's default for --data-binary is application/x-www-form-urlencoded; DAV clients send XML bodies as XML.
    if (opts.body !== undefined && !Object.keys(reqHeaders).some((k) => k.toLowerCase() === "content-type")) reqHeaders["Content-Type"] = "application/xml; charset=utf-8";
    for (const [k, v] of Object.entries(reqHeaders)) args.push("-H", `${k}: ${v}`);
    // No "Expect: 100-continue" round trip; the body comes from stdin, binary-safe.
    args.push("-H", "Expect:");
    if (opts.body !== undefined) args.push("--data-binary", "@-");
    args.push(url);
    const r = await run("curl", args, { input: opts.body, timeoutMs: opts.timeoutMs ?? 25_000 });
    if (r.code !== 0) throw new Error(`curl ${method} ${url} failed: exit ${r.code} ${r.stderr}`);
    const raw = readFileSync(join(dir, "h"), "latin1");
    // The last header block is the final response (after any 1xx).
    const blocks = raw.split(/\r?\n\r?\n/).filter((b) => b.startsWith("HTTP/"));
    const last = blocks[blocks.length - 1] ?? "";
    const lines = last.split(/\r?\n/);
    const status = Number(lines[0]!.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let body: Buffer = Buffer.alloc(0);
    try {
      body = readFileSync(join(dir, "b"));
    } catch {
      // no body
    }
    return { status, headers, body, text: body.toString("utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PUT an object; resolves with the response (201/204 expected by callers). */
export function put(p: Peer, url: string, body: string | Uint8Array, contentType: string, headers: Record<string, string> = {}): Promise<CurlResponse> {
  return curl(p, "PUT", url, { body, headers: { "Content-Type": contentType, ...headers } });
}

export const MKCALENDAR_BODY = (name: string, comps: string[] = ["VEVENT"]): string =>
  `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>${name}</D:displayname>
    <C:supported-calendar-component-set>${comps.map((c) => `<C:comp name="${c}"/>`).join("")}</C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>`;

export const MKCOL_ADDRESSBOOK_BODY = (name: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
    <D:displayname>${name}</D:displayname>
  </D:prop></D:set>
</D:mkcol>`;
