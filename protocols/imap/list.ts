/**
 * LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154,
 * CHILDREN RFC 3348, LIST-STATUS RFC 5819) and LSUB (RFC 3501 §6.3.9).
 * The hierarchy delimiter is "/"; INBOX is matched case-insensitively.
 */
import type { Folder } from "../../storage/api.ts";
import { argString, isAtom, type Arg } from "./parser.ts";
import { danglingSubscriptions, folderStatusData, mailFolders, parseStatusItems, statusLine } from "./mailbox.ts";
import { bad, ok, registerCommands, type Result, type Session } from "./session.ts";

interface Entry {
  name: string;
  folder: Folder | null;
  subscribed: boolean;
}

/** Compiles an IMAP list pattern: "*" matches anything, "%" anything but the delimiter. */
export function patternRegex(pattern: string): RegExp {
  let re = "";
  for (const ch of pattern) {
    if (ch === "*") re += ".*";
    else if (ch === "%") re += "[^/]*";
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp("^" + re + "$", "s");
}

/** Matches a mailbox name against a compiled pattern; the INBOX part compares case-insensitively. */
function matches(re: RegExp, pattern: string, name: string): boolean {
  if (re.test(name)) return true;
  if (name === "INBOX" || name.startsWith("INBOX/")) {
    const p5 = pattern.slice(0, 5);
    if (/^inbox$/i.test(p5)) return re.test(p5 + name.slice(5));
  }
  return false;
}

interface ListRequest {
  selSubscribed: boolean;
  selSpecialUse: boolean;
  recursive: boolean;
  retSubscribed: boolean;
  retChildren: boolean;
  retSpecialUse: boolean;
  statusItems: string[] | null;
  lsub: boolean;
}

function specialUseAttr(f: Folder | null): string | null {
  return f?.specialUse ?? null;
}

async function listCommand(s: Session, args: Arg[], lsub: boolean): Promise<Result> {
  const req: ListRequest = {
    selSubscribed: false,
    selSpecialUse: false,
    recursive: false,
    retSubscribed: false,
    retChildren: false,
    retSpecialUse: false,
    statusItems: null,
    lsub,
  };
  let i = 0;
  if (!lsub && args[0]?.t === "list") {
    // RFC 5258 §3: selection options
    let base = false;
    for (const o of args[0].v) {
      const k = argString(o)?.toUpperCase();
      if (k === "SUBSCRIBED") {
        req.selSubscribed = true;
        base = true;
      } else if (k === "SPECIAL-USE") {
        req.selSpecialUse = true;
        base = true;
      } else if (k === "REMOTE") {
        /* no remote mailboxes here */
      } else if (k === "RECURSIVEMATCH") req.recursive = true;
      else return bad("Unknown LIST selection option.");
    }
    // RFC 5258 §3: RECURSIVEMATCH alone (or with only REMOTE) is an error
    if (req.recursive && !base) return bad("RECURSIVEMATCH needs another selection option.");
    i++;
  }
  const refArg = argString(args[i]);
  const patArg = args[i + 1];
  if (refArg === null || !patArg) return bad("Invalid arguments.");
  let rawPatterns: string[];
  if (patArg.t === "list") {
    if (lsub) return bad("Invalid arguments.");
    rawPatterns = [];
    for (const p of patArg.v) {
      const v = argString(p);
      if (v === null) return bad("Invalid pattern.");
      rawPatterns.push(v);
    }
  } else rawPatterns = [patArg.v];
  i += 2;
  if (args[i]) {
    if (lsub || !isAtom(args[i], "RETURN") || !args[i + 1] || args[i + 1].t !== "list") return bad("Invalid arguments.");
    const opts = (args[i + 1] as { v: Arg[] }).v;
    for (let k = 0; k < opts.length; k++) {
      const o = argString(opts[k])?.toUpperCase();
      if (o === "SUBSCRIBED") req.retSubscribed = true;
      else if (o === "CHILDREN") req.retChildren = true;
      else if (o === "SPECIAL-USE") req.retSpecialUse = true;
      else if (o === "STATUS") {
        // RFC 5819 LIST-STATUS
        const items = parseStatusItems(opts[k + 1]);
        if (!items) return bad("Invalid STATUS return option.");
        req.statusItems = items;
        k++;
      } else return bad("Unknown LIST return option.");
    }
    if (args[i + 2]) return bad("Invalid arguments.");
  }

  // "" pattern: the hierarchy delimiter and root (RFC 9051 §6.3.9)
  if (rawPatterns.length === 1 && rawPatterns[0] === "" && !req.selSubscribed && !req.selSpecialUse) {
    s.send(`* ${lsub ? "LSUB" : "LIST"} (\\Noselect) "/" ""\r\n`);
    return ok(lsub ? "Lsub completed." : "List completed.");
  }

  // reference + pattern (RFC 9051 §6.3.9: the reference is a prefix of the name)
  const patterns: { re: RegExp; src: string }[] = [];
  for (const rp of rawPatterns) {
    if (rp === "") continue;
    if (!s.validMailboxName(refArg + rp)) continue; // invalid mUTF-7 matches nothing
    let full = s.mailboxFromClient(refArg + rp);
    if (/^inbox(\/|$)/i.test(full)) full = "INBOX" + full.slice(5);
    patterns.push({ re: patternRegex(full), src: full });
  }

  const folders = await mailFolders(s);
  const byName = new Map<string, Entry>();
  for (const f of folders) byName.set(f.name, { name: f.name, folder: f, subscribed: f.subscribed });
  for (const d of danglingSubscriptions(s)) if (!byName.has(d)) byName.set(d, { name: d, folder: null, subscribed: true });
  const names = [...byName.keys()].sort((a, b) => (a === "INBOX" ? -1 : b === "INBOX" ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const hasChildren = (name: string, pred?: (e: Entry) => boolean): boolean => {
    const pre = name + "/";
    for (const n of names) {
      if (!n.startsWith(pre)) continue;
      const e = byName.get(n)!;
      if (!pred ? e.folder !== null : pred(e)) return true;
    }
    return false;
  };
  const matchAny = (n: string) => patterns.some((p) => matches(p.re, p.src, n));

  const verb = lsub ? "LSUB" : "LIST";
  const out: string[] = [];
  const statusFor: Folder[] = [];
  const emitted = new Set<string>();

  const emit = (name: string, attrs: string[], ext = "") => {
    if (emitted.has(name)) return;
    emitted.add(name);
    out.push(`* ${verb} (${attrs.join(" ")}) "/" ${s.mailboxToClient(name)}${ext}\r\n`);
  };

  if (lsub) {
    // RFC 3501 §6.3.9: LSUB; a "%" that stops at an unsubscribed parent of a subscribed
    // mailbox returns that parent with \Noselect.
    for (const n of names) {
      const e = byName.get(n)!;
      if (e.subscribed && matchAny(n)) {
        const attrs: string[] = [];
        if (!e.folder) attrs.push("\\Noselect");
        emit(n, attrs);
      }
    }
    for (const n of names) {
      const e = byName.get(n)!;
      if (!e.subscribed) continue;
      const parts = n.split("/");
      for (let k = 1; k < parts.length; k++) {
        const parent = parts.slice(0, k).join("/");
        if (emitted.has(parent)) continue;
        const pe = byName.get(parent);
        if (pe?.subscribed) continue;
        if (patterns.some((p) => p.src.endsWith("%") && matches(p.re, p.src, parent))) emit(parent, ["\\Noselect"]);
      }
    }
  } else if (req.selSubscribed) {
    for (const n of names) {
      const e = byName.get(n)!;
      if (!matchAny(n)) continue;
      if (req.selSpecialUse && !specialUseAttr(e.folder)) continue;
      if (e.subscribed) {
        const attrs = ["\\Subscribed"];
        if (!e.folder) attrs.push("\\NonExistent");
        else attrs.push(hasChildren(n) ? "\\HasChildren" : "\\HasNoChildren");
        const su = specialUseAttr(e.folder);
        if (su) attrs.push(su);
        emit(n, attrs);
        if (e.folder && req.statusItems) statusFor.push(e.folder);
      } else if (req.recursive) {
        // RFC 5258 §3.5 CHILDINFO: a subscribed descendant that the patterns do not list themselves
        const pre = n + "/";
        const sub = names.some((c) => c.startsWith(pre) && byName.get(c)!.subscribed && !matchAny(c));
        if (sub) {
          const attrs: string[] = [];
          if (!e.folder) attrs.push("\\NonExistent");
          else if (req.retChildren) attrs.push(hasChildren(n) ? "\\HasChildren" : "\\HasNoChildren");
          emit(n, attrs, ' (CHILDINFO ("SUBSCRIBED"))');
        }
      }
    }
    // RFC 5258: parents of subscribed names that do not exist at all
    if (req.recursive) {
      for (const n of names) {
        const e = byName.get(n)!;
        if (!e.subscribed) continue;
        const parts = n.split("/");
        for (let k = 1; k < parts.length; k++) {
          const parent = parts.slice(0, k).join("/");
          if (byName.has(parent) || emitted.has(parent) || !matchAny(parent) || matchAny(n)) continue;
          emit(parent, ["\\NonExistent"], ' (CHILDINFO ("SUBSCRIBED"))');
        }
      }
    }
  } else {
    for (const n of names) {
      const e = byName.get(n)!;
      if (!e.folder || !matchAny(n)) continue;
      const su = specialUseAttr(e.folder);
      if (req.selSpecialUse && !su) continue;
      const attrs = [hasChildren(n) ? "\\HasChildren" : "\\HasNoChildren"];
      if (req.retSubscribed && e.subscribed) attrs.push("\\Subscribed");
      if (su) attrs.push(su);
      emit(n, attrs);
      if (req.statusItems) statusFor.push(e.folder);
    }
  }

  if (!req.statusItems) {
    for (const line of out) s.send(line);
  } else {
    // RFC 5819: the STATUS responses follow the LIST responses
    for (const line of out) s.send(line);
    for (const f of statusFor) {
      const d = await folderStatusData(s, f, req.statusItems.includes("RECENT") && !s.rev2);
      s.send(statusLine(s, f, req.statusItems, d));
    }
  }
  return ok(lsub ? "Lsub completed." : "List completed.");
}

registerCommands({
  LIST: { state: "auth", fn: (s, cmd) => listCommand(s, cmd.args, false) },
  LSUB: { state: "auth", fn: (s, cmd) => listCommand(s, cmd.args, true) },
});
