/**
 * COPY / UID COPY (RFC 9051 §6.4.7, COPYUID RFC 4315 §3) and MOVE / UID MOVE
 * (RFC 6851): the COPYUID goes out untagged before the EXPUNGEs of a MOVE.
 */
import { argString, type Arg } from "./parser.ts";
import { formatSet } from "./encode.ts";
import { parseSeqSet } from "./seqset.ts";
import { resolveSet } from "./fetch.ts";
import { findMailFolder } from "./mailbox.ts";
import { bad, mailboxArg, no, ok, registerCommands, type Result, type Session } from "./session.ts";

async function copyMove(s: Session, args: Arg[], uid: boolean, move: boolean): Promise<Result> {
  const sel = s.sel!;
  const set = parseSeqSet(argString(args[0]) ?? "");
  const name = mailboxArg(s, argString(args[1]));
  if (!set || name === null || args.length !== 2) return bad("Invalid arguments.");
  const idx = resolveSet(s, set, uid);
  if (typeof idx === "string") return bad(idx);
  const dest = await findMailFolder(s, name);
  if (!dest) return no("Mailbox doesn't exist: " + name.slice(0, 200), "TRYCREATE");
  if (move && sel.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
  const uids: number[] = [];
  let gone = false;
  for (const i of idx) {
    const m = sel.msgAt(i);
    if (m) uids.push(m.uid);
    else gone = true;
  }
  // COPY is all or nothing (RFC 9051 §6.4.7): refuse when part of the set is already expunged
  if (gone && !move) return no("Some of the requested messages no longer exist.", "EXPUNGEISSUED");
  if (!uids.length) return ok(move ? "No messages moved." : "No messages copied.");
  const r = move ? await s.store.move(sel.folderId, uids, dest.id) : await s.store.copy(sel.folderId, uids, dest.id);
  const code = r.mapping.length ? `COPYUID ${r.uidValidity} ${formatSet(r.mapping.map((m) => m[0]))} ${formatSet(r.mapping.map((m) => m[1]))}` : undefined;
  if (move) {
    // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGE responses
    if (code) s.send(`* OK [${code}] Moved UIDs.\r\n`);
    return ok("Move completed.");
  }
  return ok("Copy completed.", code);
}

registerCommands({
  COPY: { state: "selected", seq: true, fn: (s, cmd) => copyMove(s, cmd.args, false, false) },
  "UID COPY": { state: "selected", fn: (s, cmd) => copyMove(s, cmd.args, true, false) },
  MOVE: { state: "selected", fn: (s, cmd) => copyMove(s, cmd.args, false, true) },
  "UID MOVE": { state: "selected", fn: (s, cmd) => copyMove(s, cmd.args, true, true) },
});
