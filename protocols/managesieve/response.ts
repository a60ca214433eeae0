/**
 * ManageSieve output (RFC 5804 §4), sans-IO: strings and responses as wire
 * text. A string goes out quoted when it can (no CR/LF, no NUL, at most 1024
 * octets), otherwise as a server literal `{n}` CRLF octets (`literal-s2c`).
 */
import { Buffer } from "node:buffer";
import { MAX_QUOTED } from "./parser.ts";

/** RFC 5804 §1.3 response codes Pillarbox sends. */
export type ResponseCode =
  | "AUTH-TOO-WEAK"
  | "ENCRYPT-NEEDED"
  | "QUOTA"
  | "QUOTA/MAXSCRIPTS"
  | "QUOTA/MAXSIZE"
  | "TRANSITION-NEEDED"
  | "TRYLATER"
  | "ACTIVE"
  | "NONEXISTENT"
  | "ALREADYEXISTS"
  | "WARNINGS"
  | { tag: string }
  | { sasl: string };

/** A string argument or response text in wire form. */
export function str(s: string): string {
  const n = Buffer.byteLength(s, "utf8");
  if (n <= MAX_QUOTED && !/[\r\n\0]/.test(s)) return `"${s.replace(/[\\"]/g, (c) => "\\" + c)}"`;
  return `{${n}}\r\n${s}`;
}

function code(c: ResponseCode): string {
  if (typeof c === "string") return `(${c})`;
  if ("tag" in c) return `(TAG ${str(c.tag)})`;
  return `(SASL ${str(c.sasl)})`;
}

/**
 * `OK`/`NO`/`BYE` [SP "(" code ")"] [SP string] CRLF (RFC 5804 §4 response-*).
 * A text with a line break goes as a literal: clients read it whole.
 */
export function response(kind: "OK" | "NO" | "BYE", text: string | null, c?: ResponseCode): string {
  let line: string = kind;
  if (c !== undefined) line += " " + code(c);
  if (text !== null && text !== "") line += " " + str(text);
  return line + "\r\n";
}
