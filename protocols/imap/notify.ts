/**
 * NOTIFY (RFC 5465): unsolicited STATUS for watched mailboxes that are not
 * selected, LIST for mailbox name and subscription changes, and immediate
 * updates for the selected mailbox (EXPUNGE held back with
 * SELECTED-DELAYED, §6).
 */
import type { Folder, StoreEvent } from "../../storage/api.ts";
import { argString, isAtom, type Arg } from "./parser.ts";
import { folderStatusData, mailFolders, statusLine } from "./mailbox.ts";
import type { AccountListener } from "./state.ts";
import { bad, mailboxArg, no, ok, registerCommands, type Session } from "./session.ts";

type Ev = "MESSAGENEW" | "MESSAGEEXPUNGE" | "FLAGCHANGE" | "MAILBOXNAME" | "SUBSCRIPTIONCHANGE" | "ANNOTATIONCHANGE" | "MAILBOXMETADATACHANGE" | "SERVERMETADATACHANGE";
const EVENTS = new Set<Ev>(["MESSAGENEW", "MESSAGEEXPUNGE", "FLAGCHANGE", "MAILBOXNAME", "SUBSCRIPTIONCHANGE", "ANNOTATIONCHANGE", "MAILBOXMETADATACHANGE", "SERVERMETADATACHANGE"]);

interface Spec {
  kind: "SELECTED" | "SELECTED-DELAYED" | "INBOXES" | "PERSONAL" | "SUBSCRIBED" | "SUBTREE" | "MAILBOXES";
  names: string[];
  events: Set<Ev>;
}

export interface NotifyState extends AccountListener {
  specs: Spec[];
  pendingStatus: Set<number>;
  timer: ReturnType<typeof setTimeout> | null;
}

function specMatches(sp: Spec, f: Folder): boolean {
  switch (sp.kind) {
    case "PERSONAL":
      return true;
    case "INBOXES":
      return f.name === "INBOX";
    case "SUBSCRIBED":
      return f.subscribed;
    case "MAILBOXES":
      return sp.names.includes(f.name);
    case "SUBTREE":
      return sp.names.some((n) => f.name === n || f.name.startsWith(n + "/"));
    default:
      return false;
  }
}

/** STATUS items implied by the watched events (RFC 5465 §5.2). */
function statusItems(_s: Session, events: Set<Ev>): string[] {
  const items: string[] = [];
  if (events.has("MESSAGENEW")) items.push("MESSAGES", "UIDNEXT", "UIDVALIDITY");
  if (events.has("MESSAGEEXPUNGE") && !items.includes("MESSAGES")) items.push("MESSAGES");
  if (events.has("FLAGCHANGE")) {
    if (!items.includes("UIDVALIDITY")) items.push("UIDVALIDITY");
    items.push("HIGHESTMODSEQ");
  }
  return items;
}

function eventsFor(st: NotifyState, f: Folder): Set<Ev> | null {
  const out = new Set<Ev>();
  for (const sp of st.specs) {
    if (sp.kind === "SELECTED" || sp.kind === "SELECTED-DELAYED") continue;
    if (specMatches(sp, f)) for (const e of sp.events) out.add(e);
  }
  return out.size ? out : null;
}

function makeState(s: Session, specs: Spec[]): NotifyState {
  const st: NotifyState = {
    specs,
    pendingStatus: new Set(),
    timer: null,
    onAccountEvent(ev: StoreEvent) {
      if (s.isClosed) return;
      if (ev.type === "folder") {
        void folderEvent(s, st, ev);
        return;
      }
      if (s.sel && s.sel.folderId === ev.folderId) return; // the view reports the selected mailbox
      st.pendingStatus.add(ev.folderId);
      st.timer ??= setTimeout(() => {
        st.timer = null;
        void flushStatus(s, st);
      }, 10);
    },
  };
  return st;
}

async function flushStatus(s: Session, st: NotifyState): Promise<void> {
  const ids = [...st.pendingStatus];
  st.pendingStatus.clear();
  for (const id of ids) {
    const f = await s.store.getFolderById(id, "mail");
    if (!f || s.isClosed || s.notify !== st) continue;
    const evs = eventsFor(st, f);
    if (!evs) continue;
    const items = statusItems(s, evs);
    if (!items.length) continue;
    const d = await folderStatusData(s, f, false);
    s.sendUnsolicited(statusLine(s, f, items, d));
  }
}

async function folderEvent(s: Session, st: NotifyState, ev: StoreEvent & { type: "folder" }): Promise<void> {
  const f = await s.store.getFolderById(ev.folderId);
  if (s.isClosed || s.notify !== st) return;
  if (!f) {
    // deleted: we no longer know its name; MailboxName watchers of PERSONAL learn via a LIST refresh
    return;
  }
  const evs = eventsFor(st, f) ?? new Set<Ev>();
  if ((ev.change === "created" || ev.change === "renamed") && (evs.has("MAILBOXNAME") || st.specs.some((sp) => sp.kind === "PERSONAL" && sp.events.has("MAILBOXNAME")))) {
    s.sendUnsolicited(`* LIST () "/" ${s.mailboxToClient(f.name)}\r\n`);
  } else if (ev.change === "subscribed" && evs.has("SUBSCRIPTIONCHANGE")) {
    s.sendUnsolicited(`* LIST (${f.subscribed ? "\\Subscribed" : ""}) "/" ${s.mailboxToClient(f.name)}\r\n`);
  }
}

function parseEvents(a: Arg | undefined): Set<Ev> | string {
  if (!a) return "Missing events.";
  if (isAtom(a, "NONE")) return new Set();
  if (a.t !== "list") return "Invalid events.";
  const out = new Set<Ev>();
  const v = a.v;
  for (let i = 0; i < v.length; i++) {
    const e = argString(v[i])?.toUpperCase() as Ev | undefined;
    if (!e || !EVENTS.has(e)) return "Unknown event.";
    out.add(e);
    // MessageNew (fetch-att ...): accepted, the FETCH part is not sent
    if (e === "MESSAGENEW" && v[i + 1]?.t === "list") i++;
  }
  // RFC 5465 §5: MessageNew and MessageExpunge go together; FlagChange needs both
  if (out.has("MESSAGENEW") !== out.has("MESSAGEEXPUNGE")) {
    if (out.has("FLAGCHANGE")) return "FlagChange needs MessageNew and MessageExpunge.";
  }
  return out;
}

registerCommands({
  NOTIFY: {
    state: "auth",
    async fn(s, cmd) {
      const a0 = argString(cmd.args[0])?.toUpperCase();
      const hub = s.hub!;
      if (a0 === "NONE") {
        if (s.notify) hub.listeners.delete(s.notify);
        s.notify = null;
        s.notifySelected = null;
        return ok("NOTIFY completed.");
      }
      if (a0 !== "SET") return bad("Invalid NOTIFY arguments.");
      let i = 1;
      let status = false;
      if (isAtom(cmd.args[i], "STATUS")) {
        status = true;
        i++;
      }
      const specs: Spec[] = [];
      for (; i < cmd.args.length; i++) {
        const g = cmd.args[i];
        if (g.t !== "list" || g.v.length < 1) return bad("Invalid event group.");
        const kind = argString(g.v[0])?.toUpperCase();
        let names: string[] = [];
        let evIdx = 1;
        if (kind === "SUBTREE" || kind === "MAILBOXES") {
          const n = g.v[1];
          const list = n?.t === "list" ? n.v : n ? [n] : [];
          for (const x of list) {
            const nm = mailboxArg(s, argString(x));
            if (nm === null) return bad("Invalid mailbox name.");
            names.push(nm);
          }
          evIdx = 2;
        } else if (!["SELECTED", "SELECTED-DELAYED", "INBOXES", "PERSONAL", "SUBSCRIBED"].includes(kind ?? "")) {
          return bad("Unknown mailbox filter.");
        }
        const evs = parseEvents(g.v[evIdx]);
        if (typeof evs === "string") return bad(evs);
        if ([...evs].some((e) => e.endsWith("METADATACHANGE") || e === "ANNOTATIONCHANGE")) {
          return no("Unsupported NOTIFY event.", "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)");
        }
        specs.push({ kind: kind as Spec["kind"], names, events: evs });
        names = [];
      }
      if (s.notify) hub.listeners.delete(s.notify);
      const st = makeState(s, specs);
      s.notify = st;
      const selSpec = specs.find((sp) => sp.kind === "SELECTED" || sp.kind === "SELECTED-DELAYED");
      s.notifySelected = selSpec && selSpec.events.size ? (selSpec.kind === "SELECTED" ? "now" : "delayed") : null;
      hub.listeners.add(st);
      if (status) {
        // RFC 5465 §3.1: initial STATUS for every watched mailbox except the selected one
        for (const f of await mailFolders(s)) {
          if (s.sel && s.sel.folderId === f.id) continue;
          const evs = eventsFor(st, f);
          if (!evs) continue;
          const items = statusItems(s, evs);
          if (!items.length) continue;
          const d = await folderStatusData(s, f, false);
          s.send(statusLine(s, f, items, d));
        }
      }
      return ok("NOTIFY completed.");
    },
  },
});
