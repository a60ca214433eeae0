/**
 * STORE and UID STORE (RFC 9051 §6.4.6; UNCHANGEDSINCE and MODIFIED,
 * RFC 7162 §3.1.3).
 */
import { argString, type Arg } from "./parser.ts";
import { formatSet } from "./encode.ts";
import { parseSeqSet } from "./seqset.ts";
import { enableCondstore, resolveSet } from "./fetch.ts";
import { bad, no, ok, registerCommands, type Result, type Session } from "./session.ts";

const SYSTEM = new Map([
  ["\\seen", "\\Seen"],
  ["\\answered", "\\Answered"],
  ["\\flagged", "\\Flagged"],
  ["\\deleted", "\\Deleted"],
  ["\\draft", "\\Draft"],
]);

/** Validates a flag list (RFC 9051 §9 flag); \Recent is not settable and is ignored. Returns flags or an error text. */
export function parseFlagList(args: Arg[]): string[] | string {
  const out: string[] = [];
  for (const a of args) {
    if (a.t === "list") return "Invalid flag.";
    const f = a.v;
    if (a.t !== "atom") return "Flags must be atoms.";
    if (f[0] === "\\") {
      const sys = SYSTEM.get(f.toLowerCase());
      if (sys) out.push(sys);
      else if (f.toLowerCase() === "\\recent") continue;
      else return "Invalid system flag " + f.slice(0, 40);
      continue;
    }
    if (!/^[\x21-\x7e]+$/.test(f) || /[(){%*"\\\]]/.test(f)) return "Invalid keyword.";
    if (f.length > 200) return "Keyword too long.";
    out.push(f);
  }
  return out;
}

async function storeCommand(s: Session, args: Arg[], uid: boolean): Promise<Result> {
  const sel = s.sel!;
  const set = parseSeqSet(argString(args[0]) ?? "");
  if (!set) return bad("Invalid sequence set.");
  let i = 1;
  let unchangedSince: number | undefined;
  if (args[i]?.t === "list") {
    const m = (args[i] as { v: Arg[] }).v;
    if (argString(m[0])?.toUpperCase() !== "UNCHANGEDSINCE" || m.length !== 2) return bad("Invalid STORE modifier.");
    const n = Number(argString(m[1]));
    if (!Number.isSafeInteger(n) || n < 0) return bad("Invalid UNCHANGEDSINCE.");
    unchangedSince = n;
    i++;
  }
  const op = argString(args[i])?.toUpperCase();
  const m = op ? /^([+-]?)FLAGS(\.SILENT)?$/.exec(op) : null;
  if (!m) return bad("Invalid STORE item.");
  const mode = m[1] === "+" ? "add" : m[1] === "-" ? "remove" : "set";
  const silent = !!m[2];
  const rest = args.slice(i + 1);
  const flagArgs = rest.length === 1 && rest[0].t === "list" ? rest[0].v : rest;
  if (!flagArgs.length && !(rest.length === 1 && rest[0].t === "list")) return bad("Missing flags.");
  const flags = parseFlagList(flagArgs);
  if (typeof flags === "string") return bad(flags);
  if (sel.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
  const idx = resolveSet(s, set, uid);
  if (typeof idx === "string") return bad(idx);
  if (unchangedSince !== undefined && !s.condstore) enableCondstore(s);

  const uids: number[] = [];
  for (const k of idx) {
    const msg = sel.msgAt(k);
    if (msg) uids.push(msg.uid);
  }
  // new keywords are announced with FLAGS before any FETCH uses them
  const kws = flags.filter((f) => f[0] !== "\\");
  if (kws.length && mode !== "remove") sel.cache.addKeywords(kws);
  const res = uids.length ? await s.store.storeFlags(sel.folderId, uids, mode, flags, { unchangedSince, silent }) : { updated: [], modified: [] };
  await sel.cache.idle();
  s.send(sel.keywordsLines());
  const changed = new Set(res.updated.map((u) => u.uid));
  for (const u of res.updated) {
    const k = sel.indexOfUid(u.uid);
    if (k < 0) continue;
    const msg = sel.cache.get(u.uid);
    sel.flagsReported(u.uid);
    if (!msg) continue;
    if (silent && !s.condstore) continue;
    let line = `* ${k + 1} FETCH (`;
    const parts: string[] = [];
    if (!silent) {
      let f = msg.flags.str;
      if (!s.rev2 && sel.isRecent(msg.uid)) f = f ? "\\Recent " + f : "\\Recent";
      parts.push(`FLAGS (${f})`);
    }
    if (uid || s.qresync) parts.push(`UID ${msg.uid}`);
    // RFC 7162 §3.1.3: MODSEQ goes with every FETCH of a STORE once CONDSTORE is on (even .SILENT)
    if (s.condstore) parts.push(`MODSEQ (${msg.modseq})`);
    line += parts.join(" ") + ")\r\n";
    s.send(line);
  }
  void changed;
  if (res.modified.length) {
    const nums = uid ? res.modified : res.modified.map((u) => sel.indexOfUid(u) + 1).filter((x) => x > 0);
    nums.sort((a, b) => a - b);
    return ok("Conditional STORE failed for some messages.", `MODIFIED ${formatSet(nums)}`);
  }
  return ok(uid ? "UID STORE completed." : "Store completed.");
}

registerCommands({
  STORE: { state: "selected", seq: true, fn: (s, cmd) => storeCommand(s, cmd.args, false) },
  "UID STORE": { state: "selected", fn: (s, cmd) => storeCommand(s, cmd.args, true) },
});
