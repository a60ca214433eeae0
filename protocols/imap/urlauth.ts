/**
 * URLAUTH (RFC 4467): GENURLAUTH, URLFETCH, RESETKEY, with the URLAUTH=BINARY
 * fetch options BODYPARTSTRUCTURE / BINARY / BODY (RFC 5524).
 */
import type { MimePart } from "../../storage/api.ts";
import { argString, type Arg } from "./parser.ts";
import { bodyStructureString, quoteRaw, str } from "./encode.ts";
import { binaryEntity, binaryStructure, decodeCte } from "./mime.ts";
import { readBytes } from "./fetch.ts";
import { findMailFolder } from "./mailbox.ts";
import { mailboxKey, parseImapUrl, resetKeys, resolveUrl, tokenMatches, urlAccount, urlBytes, urlToken } from "./urls.ts";
import { bad, mailboxArg, no, ok, registerCommands, type Session } from "./session.ts";

/** Who may use a URL with this access identifier (RFC 4467 §3). */
function accessAllowed(s: Session, access: string, ownerEmail: string): boolean {
  const me = s.account!.email.toLowerCase();
  if (access === "anonymous") return true;
  if (access === "authuser") return true;
  const m = /^(user|submit)\+(.+)$/.exec(access);
  if (!m) return false;
  let who = m[2];
  try {
    who = decodeURIComponent(who);
  } catch {
    return false;
  }
  who = who.toLowerCase();
  if (m[1] === "submit") return false; // only a submission server may use submit+
  return who === me || (!who.includes("@") && who === me.split("@")[0] && me.endsWith("@" + ownerEmail.split("@")[1]));
}

registerCommands({
  GENURLAUTH: {
    state: "auth",
    async fn(s, cmd) {
      if (!cmd.args.length || cmd.args.length % 2 !== 0) return bad("GENURLAUTH needs URL/mechanism pairs.");
      const out: string[] = [];
      for (let i = 0; i < cmd.args.length; i += 2) {
        const url = argString(cmd.args[i]);
        const mech = argString(cmd.args[i + 1])?.toUpperCase();
        if (url === null || !mech) return bad("Invalid arguments.");
        if (mech !== "INTERNAL") return no("Unsupported URLAUTH mechanism.", "BADURL " + quoteRaw(url.replace(/["\\\r\n]/g, "")));
        const u = parseImapUrl(url);
        // RFC 4467 §6.1: an absolute URL of our own message with ;urlauth= and no token yet
        if (!u || u.user === null || !u.access || u.token) return no("Invalid URL.", "BADURL " + quoteRaw(url.replace(/["\\\r\n]/g, "")));
        const acct = await urlAccount(s, u);
        if (!acct || acct.id !== s.account!.id) return no("URL is not for this user.", "BADURL " + quoteRaw(url.replace(/["\\\r\n]/g, "")));
        const r = await resolveUrl(s, u, acct);
        if (!r) return no("No such message.", "BADURL " + quoteRaw(url.replace(/["\\\r\n]/g, "")));
        const key = await mailboxKey(s, acct, r.folder, true);
        out.push(`${u.signed}:internal:${urlToken(key!, u.signed)}`);
      }
      s.send(`* GENURLAUTH ${out.map((x) => str(x)).join(" ")}\r\n`);
      return ok("GENURLAUTH completed.");
    },
  },

  URLFETCH: {
    state: "auth",
    async fn(s, cmd) {
      if (!cmd.args.length) return bad("URLFETCH needs URLs.");
      for (const a of cmd.args) {
        let url: string | null;
        let opts: string[] = [];
        if (a.t === "list") {
          url = argString(a.v[0]);
          opts = a.v.slice(1).map((x: Arg) => argString(x)?.toUpperCase() ?? "");
          if (opts.some((o) => o !== "BODYPARTSTRUCTURE" && o !== "BINARY" && o !== "BODY")) return bad("Unknown URLFETCH parameter.");
        } else url = argString(a);
        if (url === null) return bad("Invalid URL.");
        const data = await fetchUrl(s, url, opts);
        s.send(`* URLFETCH ${str(url)} `);
        if (data === null) {
          s.send("NIL\r\n");
          continue;
        }
        if (a.t !== "list") {
          sendLiteral(s, data.bytes, false);
          s.send("\r\n");
          continue;
        }
        // RFC 5524 §5: url-metadata = 1*(SP "(" url-metadata-el ")"): each item in its own parentheses
        let first = true;
        const open = (name: string) => {
          s.send(first ? `(${name} ` : ` (${name} `);
          first = false;
        };
        if (opts.includes("BODYPARTSTRUCTURE")) {
          open("BODYPARTSTRUCTURE");
          s.send(`${data.structure})`);
        }
        if (opts.includes("BINARY")) {
          open("BINARY");
          if (data.binary === null) s.send("NIL");
          else sendLiteral(s, data.binary, true);
          s.send(")");
        }
        if (opts.includes("BODY")) {
          open("BODY");
          sendLiteral(s, data.bytes, false);
          s.send(")");
        }
        s.send("\r\n");
        await s.drain();
      }
      return ok("URLFETCH completed.");
    },
  },

  RESETKEY: {
    state: "auth",
    async fn(s, cmd) {
      if (!cmd.args.length) {
        await resetKeys(s, null);
        return ok("All keys removed.");
      }
      const name = mailboxArg(s, argString(cmd.args[0]));
      if (name === null) return bad("Invalid mailbox name.");
      for (const m of cmd.args.slice(1)) if (argString(m)?.toUpperCase() !== "INTERNAL") return no("Unsupported mechanism.", "CANNOT");
      const f = await findMailFolder(s, name);
      if (!f) return no("Mailbox doesn't exist.", "NONEXISTENT");
      await resetKeys(s, f);
      return ok("Key reset.");
    },
  },
});

function sendLiteral(s: Session, data: Uint8Array, binary: boolean): void {
  if (!data.length) {
    s.send('""');
    return;
  }
  s.send(`${binary && data.indexOf(0) >= 0 ? "~" : ""}{${data.length}}\r\n`);
  s.sendBytes(data);
}

/** Resolves and authorises an URLAUTH URL; null when it is not valid (URLFETCH returns NIL, RFC 4467 §6.2). */
async function fetchUrl(s: Session, url: string, opts: string[]): Promise<{ bytes: Uint8Array; binary: Uint8Array | null; structure: string } | null> {
  const u = parseImapUrl(url);
  if (!u || u.user === null || !u.access || u.mech !== "internal" || !u.token) return null;
  if (u.expire !== null && u.expire < Date.now()) return null;
  const acct = await urlAccount(s, u);
  if (!acct) return null;
  if (!accessAllowed(s, u.access, acct.email)) return null;
  const r = await resolveUrl(s, u, acct);
  if (!r) return null;
  const fresh = (await s.store.getAccountById(acct.id)) ?? acct;
  const key = await mailboxKey(s, fresh, r.folder, false);
  if (!key || !tokenMatches(key, u.signed, u.token)) return null;
  const bytes = await urlBytes(s, u, r);
  if (!bytes) return null;
  const part = r.part ?? r.ix.root;
  let binary: Uint8Array | null = bytes;
  if (opts.includes("BINARY") && !u.partial) {
    if (r.part && r.part.type !== "multipart" && !r.part.message) {
      const raw = await readBytes(s, r.ix, r.part.bodyStart, r.part.bodyEnd);
      binary = decodeCte(raw, r.part.encoding);
    } else {
      const whole = await readBytes(s, r.ix, 0, r.ix.size);
      binary = binaryEntity(whole, r.part ?? r.ix.root, !r.part);
    }
  }
  // RFC 5524 §3: with BINARY, BODYPARTSTRUCTURE describes the data BINARY returns: the
  // decoded form, its size and a Content-Transfer-Encoding that fits it (binary, 8bit or 7bit)
  let structure: string;
  if (opts.includes("BINARY") && binary !== null && !u.partial) {
    const whole = await readBytes(s, r.ix, 0, r.ix.size);
    structure = bodyStructureString(decodedForm(whole, part, binaryStructure(whole, part)), true);
  } else structure = bodyStructureString(part, true);
  return { bytes, binary, structure };
}

/** The Content-Transfer-Encoding that describes bytes as they are (RFC 2045 §2.7-2.9). */
export function encodingOf(data: Uint8Array): "7bit" | "8bit" | "binary" {
  let eight = false;
  let lineLen = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 0) return "binary";
    if (c === 13) {
      if (data[i + 1] !== 10) return "binary";
      continue;
    }
    if (c === 10) {
      if (data[i - 1] !== 13) return "binary";
      lineLen = 0;
      continue;
    }
    if (++lineLen > 998) return "binary";
    if (c >= 0x80) eight = true;
  }
  return eight ? "8bit" : "7bit";
}

function lineCount(data: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 10) n++;
  return n;
}

/**
 * `dec` is binaryStructure's copy of `orig` (sizes after decoding); this
 * also gives every decoded leaf the encoding and line count of its decoded
 * bytes. New objects throughout: the originals are shared index rows.
 */
function decodedForm(whole: Uint8Array, orig: MimePart, dec: MimePart): MimePart {
  if (orig.type === "multipart" && orig.parts?.length && dec.parts?.length === orig.parts.length) {
    return { ...dec, parts: orig.parts.map((p, i) => decodedForm(whole, p, dec.parts![i])) };
  }
  if (orig.message && dec.message) {
    return { ...dec, message: { envelope: dec.message.envelope, root: decodedForm(whole, orig.message.root, dec.message.root) } };
  }
  const enc = (orig.encoding || "7bit").toLowerCase();
  if (enc !== "base64" && enc !== "quoted-printable") return dec;
  const data = decodeCte(whole.subarray(orig.bodyStart, orig.bodyEnd), enc);
  if (!data) return dec;
  return { ...dec, encoding: encodingOf(data), bodyStart: 0, bodyEnd: data.length, lines: orig.type === "text" ? lineCount(data) : dec.lines };
}
