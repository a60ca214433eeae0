/**
 * APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502: all messages or
 * none, one store.append call), CATENATE (RFC 4469: TEXT parts and URL parts
 * from this account's messages), literal8 data (RFC 3516 §4.4), APPENDUID
 * (RFC 4315 §3). OK is sent only after the store committed (and fsynced).
 */
import type { AppendInput } from "../../storage/api.ts";
import { argString, isAtom, type Arg, type StringArg } from "./parser.ts";
import { formatSet, parseDateTime, quoteRaw } from "./encode.ts";
import { findMailFolder } from "./mailbox.ts";
import { parseFlagList } from "./storecmd.ts";
import { parseImapUrl, resolveUrl, urlBytes } from "./urls.ts";
import { bad, mailboxArg, no, ok, registerCommands, type Result, type Session } from "./session.ts";

const enc = new TextEncoder();

type Piece = { text: Uint8Array } | { url: string };
interface Pending {
  flags: string[];
  date: number | undefined;
  data: Uint8Array | null;
  catenate: Piece[] | null;
}

function bytesOf(a: StringArg): Uint8Array {
  return a.raw ?? enc.encode(a.v);
}

function parseAppendArgs(args: Arg[]): Pending[] | string {
  const msgs: Pending[] = [];
  let i = 1;
  while (i < args.length) {
    const p: Pending = { flags: [], date: undefined, data: null, catenate: null };
    if (args[i]?.t === "list") {
      const f = parseFlagList((args[i] as { v: Arg[] }).v);
      if (typeof f === "string") return f;
      p.flags = f;
      i++;
    }
    // date-time is a quoted string; a literal here would be the message
    const d = args[i];
    if (d && d.t === "string" && !d.literal) {
      const t = parseDateTime(d.v);
      if (t === null) return "Invalid date-time.";
      p.date = t;
      i++;
    }
    const a = args[i];
    if (!a) return "Missing message.";
    if (isAtom(a, "CATENATE")) {
      const l = args[i + 1];
      if (!l || l.t !== "list" || !l.v.length) return "Invalid CATENATE list.";
      const pieces: Piece[] = [];
      for (let k = 0; k < l.v.length; k += 2) {
        const kind = argString(l.v[k])?.toUpperCase();
        const val = l.v[k + 1];
        if (!val || val.t === "list") return "Invalid CATENATE part.";
        if (kind === "TEXT") {
          if (val.t !== "string") return "CATENATE TEXT needs a literal.";
          pieces.push({ text: bytesOf(val) });
        } else if (kind === "URL") {
          pieces.push({ url: val.v });
        } else return "Invalid CATENATE part.";
      }
      p.catenate = pieces;
      i += 2;
    } else if (a.t === "string") {
      p.data = bytesOf(a);
      i++;
    } else return "Missing message literal.";
    msgs.push(p);
  }
  return msgs.length ? msgs : "Missing message.";
}

async function appendCommand(s: Session, args: Arg[]): Promise<Result> {
  const name = mailboxArg(s, argString(args[0]));
  if (name === null) return bad("Invalid mailbox name.");
  const parsed = parseAppendArgs(args);
  if (typeof parsed === "string") return bad(parsed);
  const folder = await findMailFolder(s, name);
  // RFC 9051 §6.3.12: TRYCREATE when the mailbox is missing
  if (!folder) return no("Mailbox doesn't exist: " + name.slice(0, 200), "TRYCREATE");
  const max = s.ctx.config.limits.maxMessageSize;
  const inputs: AppendInput[] = [];
  for (const p of parsed) {
    let data = p.data;
    if (p.catenate) {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (const piece of p.catenate) {
        if ("text" in piece) {
          chunks.push(piece.text);
          total += piece.text.length;
          continue;
        }
        // RFC 4469 §5: a URL that can't be resolved fails the whole APPEND with BADURL
        const u = parseImapUrl(piece.url);
        const badUrl = no("Bad URL: " + piece.url.slice(0, 200).replace(/[\r\n]/g, ""), `BADURL ${quoteRaw(piece.url.slice(0, 1000).replace(/[\r\n"\\]/g, ""))}`);
        if (!u || (u.user !== null && u.user.toLowerCase() !== s.account!.email.split("@")[0] && u.user.toLowerCase() !== s.account!.email)) return badUrl;
        const r = await resolveUrl(s, u, s.account!);
        if (!r) return badUrl;
        const bytes = await urlBytes(s, u, r);
        if (!bytes) return badUrl;
        chunks.push(bytes);
        total += bytes.length;
        if (total > max) return no("Message too large.", "TOOBIG");
      }
      data = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        data.set(c, o);
        o += c.length;
      }
    }
    if (!data || data.length === 0) return no("Can't save a zero byte message.", "CANNOT");
    if (data.length > max) return no("Message too large.", "TOOBIG");
    inputs.push({ raw: data, flags: p.flags, internalDate: p.date });
  }
  const res = await s.store.append(folder.id, inputs);
  if (!res.length) return no("Append failed.");
  return ok("Append completed.", `APPENDUID ${res[0].uidValidity} ${formatSet(res.map((r) => r.uid).sort((a, b) => a - b))}`);
}

registerCommands({
  APPEND: { state: "auth", fn: (s, cmd) => appendCommand(s, cmd.args) },
});
