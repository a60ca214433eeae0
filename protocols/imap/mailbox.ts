/**
 * Mailbox commands (RFC 9051 §6.3, §6.4.1-2): SELECT / EXAMINE (with
 * CONDSTORE and QRESYNC parameters, RFC 7162 §3.1.8, §3.2.5), CREATE (with
 * USE, RFC 6154 §3), DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS (incl.
 * SIZE RFC 8438, HIGHESTMODSEQ, DELETED, MAILBOXID RFC 8474, APPENDLIMIT
 * RFC 7889), NAMESPACE (RFC 2342), CHECK, CLOSE, UNSELECT (RFC 3691), QUOTA
 * (RFC 9208).
 */
import type { Folder, SpecialUse } from "../../storage/api.ts";
import { StoreError } from "../../storage/api.ts";
import { argString, isAtom, type Arg } from "./parser.ts";
import { formatSet } from "./encode.ts";
import { expandSet, parseSeqSet } from "./seqset.ts";
import { F_DELETED, F_SEEN, type FolderCache } from "./state.ts";
import { SelectedMailbox } from "./view.ts";
import { bad, mailboxArg, no, ok, registerCommands, type Result, type Session } from "./session.ts";

/** The mail folder named `name`, or null (other item classes are not IMAP mailboxes). */
/** The mail folder named `name` (from the hub's cached folder list), or null; other item classes are not IMAP mailboxes. */
export async function findMailFolder(s: Session, name: string): Promise<Folder | null> {
  for (const f of await s.hub!.folders()) if (f.name === name) return f;
  return null;
}

export async function mailFolders(s: Session): Promise<Folder[]> {
  return [...(await s.hub!.folders())]; // the hub lists mail folders only
}

/** Subscriptions of names that do not exist (RFC 9051 §6.3.7 allows them); kept in account settings. */
const SUBS_KEY = "imapSubscriptions";
export function danglingSubscriptions(s: Session): string[] {
  const v = s.account?.settings?.[SUBS_KEY];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}
async function setDangling(s: Session, list: string[]): Promise<void> {
  const settings = await s.store.updateSettings(s.account!.id, { [SUBS_KEY]: list });
  s.account!.settings = settings;
}

// ---------------------------------------------------------------- SELECT / EXAMINE

interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids: string | null;
  seqMatch: [string, string] | null;
}

async function selectCommand(s: Session, args: Arg[], readOnly: boolean): Promise<Result> {
  const name = mailboxArg(s, argString(args[0]));
  if (name === null || args.length > 2) return bad("Invalid arguments.");
  let qr: QresyncParams | null = null;
  let condstore = false;
  if (args[1]) {
    if (args[1].t !== "list") return bad("Invalid SELECT parameters.");
    const p = args[1].v;
    for (let i = 0; i < p.length; i++) {
      const k = argString(p[i])?.toUpperCase();
      if (k === "CONDSTORE") condstore = true;
      else if (k === "QRESYNC") {
        if (!s.qresync) return bad("QRESYNC is not enabled.");
        const l = p[++i];
        if (!l || l.t !== "list" || l.v.length < 2) return bad("Invalid QRESYNC parameters.");
        const uv = Number(argString(l.v[0]));
        const ms = Number(argString(l.v[1]));
        if (!Number.isInteger(uv) || uv < 1 || !Number.isInteger(ms) || ms < 1) return bad("Invalid QRESYNC parameters.");
        let known: string | null = null;
        let seqMatch: [string, string] | null = null;
        let j = 2;
        if (l.v[j] && l.v[j].t !== "list") known = argString(l.v[j++]);
        if (l.v[j] && l.v[j].t === "list") {
          const sm = l.v[j] as { t: "list"; v: Arg[] };
          const a = argString(sm.v[0]);
          const b = argString(sm.v[1]);
          if (a === null || b === null) return bad("Invalid QRESYNC parameters.");
          seqMatch = [a, b];
        }
        qr = { uidValidity: uv, modseq: ms, knownUids: known, seqMatch };
      } else return bad("Unknown SELECT parameter.");
    }
  }
  // Selecting again closes the current mailbox, even when the new SELECT fails (RFC 9051 §6.3.2).
  if (s.sel) {
    s.unselect();
    // RFC 7162 §3.2.11 / RFC 9051 §7.1: tell the client the old mailbox is gone
    if (s.qresync || s.rev2) s.send("* OK [CLOSED] Previous mailbox closed.\r\n");
  }
  const folder = await s.store.getFolder(s.account!.id, name);
  if (!folder) return { ...no("Mailbox doesn't exist: " + name.slice(0, 200), "NONEXISTENT"), noSync: true };
  if (condstore) s.condstore = true;
  const cache = s.hub!.cache(folder.id);
  await cache.ready(folder);
  const view = new SelectedMailbox(cache, readOnly, s);
  await view.attach(true);
  s.sel = view;
  s.state = "selected";
  view.markKeywordsAnnounced();

  let out = view.flagsLine();
  out += `* ${view.count} EXISTS\r\n`;
  if (!s.rev2) out += `* ${view.recentCount()} RECENT\r\n`;
  if (s.rev2) out += `* LIST () "/" ${s.mailboxToClient(folder.name)}\r\n`;
  if (!s.rev2) {
    const msgs = cache.msgs;
    for (let i = 0; i < msgs.length; i++) {
      if (!(msgs[i].flags.bits & F_SEEN)) {
        out += `* OK [UNSEEN ${i + 1}] First unseen.\r\n`;
        break;
      }
    }
  }
  out += `* OK [UIDVALIDITY ${cache.uidValidity}] UIDs valid\r\n`;
  out += `* OK [UIDNEXT ${cache.uidNext}] Predicted next UID\r\n`;
  out += view.permanentFlagsLine();
  // RFC 7162 §3.1.2.1: every SELECT of a mailbox with persistent modseqs reports HIGHESTMODSEQ
  out += `* OK [HIGHESTMODSEQ ${cache.highestModseq}] Highest\r\n`;
  out += `* OK [MAILBOXID (F${folder.id})] Ok\r\n`;
  s.send(out);

  if (qr && qr.uidValidity === cache.uidValidity) await qresyncReport(s, view, qr);
  return { ...ok(readOnly ? "Examine completed." : "Select completed.", readOnly ? "READ-ONLY" : "READ-WRITE"), noSync: true };
}

/** RFC 7162 §3.2.5.1: VANISHED (EARLIER) and FETCH for what changed since the client's modseq. */
async function qresyncReport(s: Session, view: SelectedMailbox, qr: QresyncParams): Promise<void> {
  const cache = view.cache;
  const ch = await s.store.changesSince(cache.folderId, qr.modseq);
  let expunged = ch.expunged;
  // Known UIDs limit the VANISHED report; the seq-match data lets us skip UIDs the client cannot have.
  if (qr.knownUids) {
    const set = parseSeqSet(qr.knownUids);
    if (set && !set.saved) {
      const known = new Set(expandSet(set, cache.uidNext, 2_000_000) ?? []);
      if (known.size) expunged = expunged.filter((u) => known.has(u));
    }
  }
  expunged = expunged.filter((u) => cache.indexOf(u) < 0);
  if (expunged.length) s.send(`* VANISHED (EARLIER) ${formatSet(expunged)}\r\n`);
  for (const c of ch.changed) {
    const i = view.indexOfUid(c.uid);
    if (i < 0) continue;
    const m = view.msgAt(i);
    if (!m) continue;
    let flags = m.flags.str;
    if (!s.rev2 && view.isRecent(m.uid)) flags = flags ? "\\Recent " + flags : "\\Recent";
    // a keyword created meanwhile by another session: FLAGS first (RFC 9051 §7.3.5)
    s.send(view.keywordsLines() + `* ${i + 1} FETCH (UID ${m.uid} FLAGS (${flags}) MODSEQ (${m.modseq}))\r\n`);
    await s.drain();
  }
}

// ---------------------------------------------------------------- STATUS

const STATUS_ITEMS = new Set(["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ", "MAILBOXID", "APPENDLIMIT", "DELETED-STORAGE"]);

export interface StatusData {
  messages: number;
  recent: number;
  uidNext: number;
  uidValidity: number;
  unseen: number;
  deleted: number;
  size: number;
  deletedSize: number;
  highestModseq: number;
}

async function statusFromCache(c: FolderCache): Promise<StatusData> {
  let unseen = 0;
  let deleted = 0;
  let size = 0;
  let deletedSize = 0;
  for (const m of c.msgs) {
    const b = m.flags.bits;
    if (!(b & F_SEEN)) unseen++;
    if (b & F_DELETED) {
      deleted++;
      deletedSize += m.size;
    }
    size += m.size;
  }
  return {
    messages: c.count,
    recent: await c.unclaimedRecent(),
    uidNext: c.uidNext,
    uidValidity: c.uidValidity,
    unseen,
    deleted,
    size,
    deletedSize,
    highestModseq: c.highestModseq,
  };
}

/** Status of a folder: from the warm cache when there is one, else one SQL aggregate. */
export async function folderStatusData(s: Session, folder: Folder, needRecent: boolean, needDeletedSize = false): Promise<StatusData> {
  const hub = s.hub!;
  let c = hub.peek(folder.id);
  const floorKnown = needRecent && (await s.shared.recentFloor.peek(folder.id)) !== null;
  if (!c && ((needRecent && floorKnown) || needDeletedSize)) c = hub.cache(folder.id);
  if (c) {
    await c.ready();
    return statusFromCache(c);
  }
  const st = await s.store.folderStatus(folder.id);
  return {
    messages: st.messages,
    // never seen by this server process: every message still counts as recent (RFC 3501 §2.3.2)
    recent: st.messages,
    uidNext: st.uidNext,
    uidValidity: st.uidValidity,
    unseen: st.unseen,
    deleted: st.deleted,
    size: st.size,
    deletedSize: 0,
    highestModseq: st.highestModseq,
  };
}

export function statusLine(s: Session, folder: Folder, items: string[], d: StatusData): string {
  const parts: string[] = [];
  for (const it of items) {
    switch (it) {
      case "MESSAGES":
        parts.push(`MESSAGES ${d.messages}`);
        break;
      case "RECENT":
        if (!s.rev2) parts.push(`RECENT ${d.recent}`);
        break;
      case "UIDNEXT":
        parts.push(`UIDNEXT ${d.uidNext}`);
        break;
      case "UIDVALIDITY":
        parts.push(`UIDVALIDITY ${d.uidValidity}`);
        break;
      case "UNSEEN":
        parts.push(`UNSEEN ${d.unseen}`);
        break;
      case "DELETED":
        parts.push(`DELETED ${d.deleted}`);
        break;
      case "SIZE":
        parts.push(`SIZE ${d.size}`);
        break;
      case "HIGHESTMODSEQ":
        parts.push(`HIGHESTMODSEQ ${d.highestModseq}`);
        break;
      case "MAILBOXID":
        parts.push(`MAILBOXID (F${folder.id})`);
        break;
      case "APPENDLIMIT":
        parts.push(`APPENDLIMIT ${s.ctx.config.limits.maxMessageSize}`);
        break;
      case "DELETED-STORAGE":
        parts.push(`DELETED-STORAGE ${Math.ceil(d.deletedSize / 1024)}`);
        break;
    }
  }
  return `* STATUS ${s.mailboxToClient(folder.name)} (${parts.join(" ")})\r\n`;
}

/** Parses a STATUS item list; null when invalid. */
export function parseStatusItems(a: Arg | undefined): string[] | null {
  if (!a || a.t !== "list") return null;
  const items: string[] = [];
  for (const x of a.v) {
    const k = argString(x)?.toUpperCase();
    if (!k || x.t !== "atom" || !STATUS_ITEMS.has(k)) return null;
    items.push(k);
  }
  return items;
}

// ---------------------------------------------------------------- commands

const SPECIAL: Record<string, SpecialUse> = {
  "\\DRAFTS": "\\Drafts",
  "\\SENT": "\\Sent",
  "\\TRASH": "\\Trash",
  "\\JUNK": "\\Junk",
  "\\ARCHIVE": "\\Archive",
  "\\ALL": "\\All",
  "\\FLAGGED": "\\Flagged",
};

function invalidName(name: string): boolean {
  return name.split("/").some((p) => p === "") || /[\x00-\x1f\x7f*%]/.test(name);
}

registerCommands({
  SELECT: { state: "auth", fn: (s, cmd) => selectCommand(s, cmd.args, false) },
  EXAMINE: { state: "auth", fn: (s, cmd) => selectCommand(s, cmd.args, true) },

  CREATE: {
    state: "auth",
    async fn(s, cmd) {
      const name = mailboxArg(s, argString(cmd.args[0]));
      if (name === null || cmd.args.length > 2) return bad("Invalid arguments.");
      if (name === "INBOX") return no("Mailbox already exists.", "ALREADYEXISTS");
      if (invalidName(name) || !s.validMailboxName(argString(cmd.args[0])!)) return no("Invalid mailbox name.", "CANNOT");
      let specialUse: SpecialUse | undefined;
      if (cmd.args[1]) {
        // RFC 6154 §3: CREATE name (USE (\Drafts))
        const p = cmd.args[1];
        if (p.t !== "list" || !isAtom(p.v[0], "USE") || !p.v[1] || p.v[1].t !== "list") return bad("Invalid CREATE parameters.");
        for (const u of p.v[1].v) {
          const su = SPECIAL[argString(u)?.toUpperCase() ?? ""];
          if (!su) return no("Unsupported special-use attribute.", "USEATTR");
          specialUse = su;
        }
      }
      if (await s.store.getFolder(s.account!.id, name)) return no("Mailbox already exists.", "ALREADYEXISTS");
      // Parents created on the way must not be subscribed (RFC 9051 §6.3.4 creates them; it never subscribes).
      const before = new Set((await s.store.listFolders(s.account!.id, { itemClass: "mail" })).map((f) => f.name));
      const opts = { specialUse, subscribed: false } as { specialUse?: SpecialUse };
      await s.store.createFolder(s.account!.id, name, opts);
      const parts = name.split("/");
      for (let i = 1; i < parts.length; i++) {
        const pn = parts.slice(0, i).join("/");
        if (!before.has(pn)) await s.store.setSubscribed(s.account!.id, pn, false).catch(() => {});
      }
      const f = await s.store.getFolder(s.account!.id, name);
      if (f?.subscribed) await s.store.setSubscribed(s.account!.id, name, false).catch(() => {});
      // a dangling subscription for this name becomes real again
      const dangling = danglingSubscriptions(s);
      if (dangling.includes(name)) {
        await s.store.setSubscribed(s.account!.id, name, true);
        await setDangling(
          s,
          dangling.filter((d) => d !== name),
        );
      }
      return ok("Create completed.");
    },
  },

  DELETE: {
    state: "auth",
    async fn(s, cmd) {
      const name = mailboxArg(s, argString(cmd.args[0]));
      if (name === null || cmd.args.length !== 1) return bad("Invalid arguments.");
      if (name === "INBOX") return no("INBOX can't be deleted.", "CANNOT");
      const f = await findMailFolder(s, name);
      if (!f) return no("Mailbox doesn't exist: " + name.slice(0, 200), "NONEXISTENT");
      if (s.sel && s.sel.folderId === f.id) s.unselect();
      try {
        await s.store.deleteFolder(s.account!.id, name);
      } catch (e) {
        if (e instanceof StoreError && e.code === "CANNOT") return no("Mailbox has children, delete them first.", "CANNOT");
        throw e;
      }
      // RFC 9051 §6.3.5: the subscription survives the mailbox
      if (f.subscribed) {
        const d = danglingSubscriptions(s);
        if (!d.includes(name)) await setDangling(s, [...d, name]);
      }
      return ok("Delete completed.");
    },
  },

  RENAME: {
    state: "auth",
    async fn(s, cmd) {
      const from = mailboxArg(s, argString(cmd.args[0]));
      const to = mailboxArg(s, argString(cmd.args[1]));
      if (from === null || to === null || cmd.args.length !== 2) return bad("Invalid arguments.");
      if (invalidName(to) || !s.validMailboxName(argString(cmd.args[1])!)) return no("Invalid mailbox name.", "CANNOT");
      const f = await findMailFolder(s, from);
      if (!f) return no("Mailbox doesn't exist: " + from.slice(0, 200), "NONEXISTENT");
      if (to === "INBOX" || (await s.store.getFolder(s.account!.id, to))) return no("Target mailbox already exists.", "ALREADYEXISTS");
      await s.store.renameFolder(s.account!.id, from, to);
      return ok("Rename completed.");
    },
  },

  SUBSCRIBE: {
    state: "auth",
    async fn(s, cmd) {
      const name = mailboxArg(s, argString(cmd.args[0]));
      if (name === null || cmd.args.length !== 1) return bad("Invalid arguments.");
      const f = await findMailFolder(s, name);
      if (f) await s.store.setSubscribed(s.account!.id, f.name, true);
      else {
        const d = danglingSubscriptions(s);
        if (!d.includes(name)) await setDangling(s, [...d, name]);
      }
      return ok("Subscribe completed.");
    },
  },

  UNSUBSCRIBE: {
    state: "auth",
    async fn(s, cmd) {
      const name = mailboxArg(s, argString(cmd.args[0]));
      if (name === null || cmd.args.length !== 1) return bad("Invalid arguments.");
      const d = danglingSubscriptions(s);
      const f = await findMailFolder(s, name);
      if (d.includes(name)) await setDangling(s, d.filter((x) => x !== name));
      else if (!f || !f.subscribed) return no("Mailbox is not subscribed.", "NONEXISTENT");
      if (f && f.subscribed) await s.store.setSubscribed(s.account!.id, f.name, false);
      return ok("Unsubscribe completed.");
    },
  },

  STATUS: {
    state: "auth",
    async fn(s, cmd) {
      const name = mailboxArg(s, argString(cmd.args[0]));
      const items = parseStatusItems(cmd.args[1]);
      if (name === null || !items || cmd.args.length !== 2) return bad("Invalid arguments.");
      const f = await findMailFolder(s, name);
      if (!f) return no("Mailbox doesn't exist: " + name.slice(0, 200), "NONEXISTENT");
      const d = await folderStatusData(s, f, items.includes("RECENT") && !s.rev2, items.includes("DELETED-STORAGE"));
      s.send(statusLine(s, f, items, d));
      return ok("Status completed.");
    },
  },

  NAMESPACE: {
    state: "auth",
    fn(s) {
      // RFC 2342: one personal namespace, no prefix, "/" as the hierarchy delimiter
      s.send('* NAMESPACE (("" "/")) NIL NIL\r\n');
      return ok("Namespace completed.");
    },
  },

  CHECK: { state: "selected", fn: () => ok("Check completed.") },

  CLOSE: {
    state: "selected",
    async fn(s) {
      const sel = s.sel!;
      const readOnly = sel.readOnly;
      s.unselect();
      // RFC 9051 §6.4.1: remove \Deleted messages silently (no EXPUNGE responses)
      if (!readOnly) {
        try {
          await s.store.expunge(sel.folderId);
        } catch (e) {
          if (!(e instanceof StoreError && e.code === "NONEXISTENT")) throw e;
        }
      }
      return { ...ok("Close completed."), noSync: true };
    },
  },

  UNSELECT: {
    state: "selected",
    fn(s) {
      s.unselect();
      return { ...ok("Unselect completed."), noSync: true };
    },
  },

  GETQUOTAROOT: {
    state: "auth",
    async fn(s, cmd) {
      const name = mailboxArg(s, argString(cmd.args[0]));
      if (name === null || cmd.args.length !== 1) return bad("Invalid arguments.");
      const f = await findMailFolder(s, name);
      if (!f) return no("Mailbox doesn't exist.", "NONEXISTENT");
      const q = await s.store.quota(s.account!.id);
      // RFC 9208 §4.3: an unlimited mailbox has no quota root
      if (q.limitBytes === null) {
        s.send(`* QUOTAROOT ${s.mailboxToClient(f.name)}\r\n`);
        return ok("Getquotaroot completed.");
      }
      s.send(`* QUOTAROOT ${s.mailboxToClient(f.name)} ""\r\n`);
      s.send(quotaLine(q));
      return ok("Getquotaroot completed.");
    },
  },

  GETQUOTA: {
    state: "auth",
    async fn(s, cmd) {
      const root = argString(cmd.args[0]);
      if (root === null || cmd.args.length !== 1) return bad("Invalid arguments.");
      const q = await s.store.quota(s.account!.id);
      if (root !== "" || q.limitBytes === null) return no("No such quota root.", "NONEXISTENT");
      s.send(quotaLine(q));
      return ok("Getquota completed.");
    },
  },

  SETQUOTA: {
    state: "auth",
    fn() {
      // RFC 9208 §4.5: quotas are set by the administrator (pillarbox CLI)
      return no("Permission denied.", "NOPERM");
    },
  },
});

/** RFC 9208 §5.1: STORAGE in units of 1024 octets. */
function quotaLine(q: { usedBytes: number; limitBytes: number | null; messages: number }): string {
  return `* QUOTA "" (STORAGE ${Math.ceil(q.usedBytes / 1024)} ${Math.floor((q.limitBytes ?? 0) / 1024)})\r\n`;
}
