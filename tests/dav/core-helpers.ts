/**
 * Helpers for the DAV core tests: a server with HTTPS and two users, and
 * curl as the client (the issue asks for curl per DAV method and error body).
 */
import { hasCommand, run } from "../helpers/proc.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import "../../protocols/http/index.ts";

export interface DavServer {
  srv: TestServer;
  base: string;
  close(): Promise<void>;
}

export const ALICE = "alice@example.test";
export const BOB = "bob@example.test";
export const PASS = "correct horse battery";

export async function startDav(): Promise<DavServer> {
  if (!hasCommand("curl")) throw new Error("curl is required (Debian package curl)");
  const srv = await startTestServer({ listeners: ["HTTP", "HTTPS"] });
  await createUser(srv.store, ALICE, PASS, { displayName: "Alice Liddell" });
  await createUser(srv.store, BOB, PASS, { displayName: "Bob Builder" });
  return { srv, base: `https://127.0.0.1:${srv.port("HTTPS")}`, close: () => srv.close() };
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export interface CurlOptions {
  user?: string | null;
  pass?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Extra curl arguments. */
  args?: string[];
  timeoutMs?: number;
}

/** One request with curl; the response's status, headers (lower-case names) and body. */
export async function curl(d: DavServer, method: string, path: string, opts: CurlOptions = {}): Promise<CurlResult> {
  const args = ["-sk", "-i", "--max-time", "20", "-X", method, "-H", "Expect:"];
  if (opts.user !== null) args.push("-u", `${opts.user ?? ALICE}:${opts.pass ?? PASS}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (opts.body !== undefined) args.push("--data-binary", "@-");
  if (method === "HEAD") args.splice(args.indexOf("-X"), 2, "-I");
  args.push(...(opts.args ?? []), path.startsWith("http") ? path : d.base + path);
  const r = await run("curl", args, { input: opts.body, timeoutMs: opts.timeoutMs ?? 30_000 });
  if (r.code !== 0 && !r.stdout) throw new Error(`curl failed (${r.code}): ${r.stderr}`);
  const raw = r.stdout;
  const sep = raw.indexOf("\r\n\r\n");
  const head = sep >= 0 ? raw.slice(0, sep) : raw;
  const body = sep >= 0 ? raw.slice(sep + 4) : "";
  const lines = head.split("\r\n");
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body, raw };
}

export const xmlHeaders = (depth?: string): Record<string, string> => ({ "content-type": "application/xml; charset=utf-8", ...(depth !== undefined ? { depth } : {}) });

export function vevent(uid: string, summary = "Meeting", extra = ""): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox tests//EN",
    "BEGIN:VEVENT",
    `UID:${uid}`,
    "DTSTAMP:20260101T000000Z",
    "DTSTART:20260110T100000Z",
    "DTEND:20260110T110000Z",
    `SUMMARY:${summary}`,
    ...(extra ? [extra] : []),
    "END:VEVENT",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

export function vtodo(uid: string, summary = "Task"): string {
  return ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox tests//EN", "BEGIN:VTODO", `UID:${uid}`, "DTSTAMP:20260101T000000Z", `SUMMARY:${summary}`, "END:VTODO", "END:VCALENDAR", ""].join("\r\n");
}

export function vcard(uid: string, fn = "Carol Example", email = "carol@example.net"): string {
  return ["BEGIN:VCARD", "VERSION:3.0", `UID:${uid}`, `FN:${fn}`, "N:Example;Carol;;;", `EMAIL;TYPE=INTERNET:${email}`, "END:VCARD", ""].join("\r\n");
}

/** The text of every element with this local name (any prefix), in order. */
export function texts(xml: string, local: string): string[] {
  const re = new RegExp(`<(?:[A-Za-z0-9]+:)?${local}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9]+:)?${local}>`, "g");
  return [...xml.matchAll(re)].map((m) => m[1]!);
}

/** The <D:response> blocks of a multistatus. */
export function responses(xml: string): string[] {
  return [...xml.matchAll(/<D:response>([\s\S]*?)<\/D:response>/g)].map((m) => m[1]!);
}
