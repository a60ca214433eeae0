/**
 * Desktop notifications for new mail (issue 17 item 13), opt-in.
 *
 * Off by default. The setting lives in this browser only (localStorage):
 * the permission it depends on is the browser's too (Notifications API
 * §"permission"), so a choice made on one computer says nothing about
 * another. Permission is asked only from the click that turns it on.
 *
 * A message that arrives in the Inbox (the live stream's "exists" event)
 * while the page is hidden or not focused is announced with its sender and
 * subject; one tag per message, so the same message never shows twice. At
 * most one notification every NOTIFY_GAP_MS: what arrives meanwhile is
 * gathered into one "5 new messages". Clicking one brings the tab forward
 * and opens the message (or the Inbox for a batch).
 */
import { api, type Message } from "./api.ts";
import { h } from "./dom.ts";
import { t, tn } from "./i18n/index.ts";
import "./i18n/mail-extra.ts";

const KEY = "pb-notify";
/** The shortest time between two notifications; arrivals meanwhile are batched. */
export const NOTIFY_GAP_MS = 4000;
/** Arrivals in a burst (a sync, a filter run) are gathered for this long before the first one is shown. */
const GATHER_MS = 400;
/** Ids held for one batch at most; a batch only needs its count and the newest few. */
const MAX_PENDING = 500;

export type NotifyState = "on" | "off" | "denied" | "unsupported";

function supported(): boolean {
  return typeof window !== "undefined" && "Notification" in window;
}

/** The user turned it on in this browser and the browser still allows it. */
export function notifyOn(): boolean {
  return localStorage.getItem(KEY) === "1" && supported() && Notification.permission === "granted";
}

/**
 * Turns notifications on or off. Turning on asks the browser for permission (call it from the
 * click on the setting: browsers only ask from a user action); "denied" means the browser or the
 * person refused, and the setting stays off.
 */
export async function setNotify(on: boolean): Promise<NotifyState> {
  if (!on) {
    localStorage.removeItem(KEY);
    return "off";
  }
  if (!supported()) return "unsupported";
  let perm = Notification.permission;
  if (perm === "default") perm = await Notification.requestPermission();
  if (perm !== "granted") {
    localStorage.removeItem(KEY);
    return "denied";
  }
  localStorage.setItem(KEY, "1");
  return "on";
}

/** The page is in the background: its tab is hidden, or another window has the focus. */
function away(): boolean {
  return document.visibilityState === "hidden" || !document.hasFocus();
}

export interface NotifierHost {
  /** The Inbox's folder id (only mail arriving there is announced). */
  inboxId(): number | undefined;
  /** Shows the message (or, with null, the Inbox) after a click on its notification. */
  open(id: number | null): void;
}

export class MailNotifier {
  private pending: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = 0;

  constructor(private readonly host: NotifierHost) {}

  /** A message arrived in `folderId` (the live stream's "exists" event). */
  arrived(folderId: number, id: number | undefined): void {
    if (id === undefined || folderId !== this.host.inboxId() || !notifyOn() || !away()) return;
    if (this.pending.length >= MAX_PENDING) this.pending.shift();
    this.pending.push(id);
    if (this.timer !== undefined) return;
    const wait = Math.max(GATHER_MS, this.last + NOTIFY_GAP_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async flush(): Promise<void> {
    const ids = this.pending.splice(0);
    // Back in front meanwhile: the person sees the list, a notification would only repeat it.
    if (!ids.length || !away() || !notifyOn()) return;
    // The newest few tell who wrote; read ones (read on another device meanwhile) and gone ones are left out.
    const newest = ids.slice(-3).reverse();
    const msgs = (await Promise.all(newest.map((id) => api<Message>("GET", `/api/messages/${id}`).catch(() => null)))).filter((m): m is Message => !!m && !m.flags.includes("\\Seen"));
    if (!msgs.length) return;
    this.last = Date.now();
    const who = (m: Message) => m.from[0]?.name || m.from[0]?.address || t("mail13.notify.noSender");
    const subject = (m: Message) => m.subject || t("mail13.notify.noSubject");
    let n: Notification;
    if (ids.length === 1) {
      const m = msgs[0]!;
      n = new Notification(who(m), { body: subject(m), tag: `pb-mail-${m.id}` });
      n.onclick = () => this.clicked(n, m.id);
    } else {
      n = new Notification(tn("mail13.notify.many", ids.length), { body: msgs.map((m) => `${who(m)}: ${subject(m)}`).join("\n"), tag: `pb-mail-batch-${ids[ids.length - 1]}` });
      n.onclick = () => this.clicked(n, null);
    }
  }

  private clicked(n: Notification, id: number | null): void {
    window.focus();
    n.close();
    this.host.open(id);
  }
}

/**
 * The setting's checkbox for the Settings panel: asks for permission when ticked and says what
 * happened through `say` (the panel's status line).
 */
export function notifySetting(say: (ok: string | null, bad: string | null) => void): HTMLElement {
  const box = h("input", { type: "checkbox", name: "desktopNotifications" }) as HTMLInputElement;
  box.checked = notifyOn();
  box.addEventListener("change", () => {
    void setNotify(box.checked).then((state) => {
      box.checked = state === "on";
      if (state === "on") say(t("mail13.notify.turnedOn"), null);
      else if (state === "off") say(t("mail13.notify.turnedOff"), null);
      else if (state === "denied") say(null, t("mail13.notify.denied"));
      else say(null, t("mail13.notify.unsupported"));
    });
  });
  return h("div", { class: "notify-setting" }, h("label", { class: "check" }, box, " ", t("mail13.notify.setting")), h("p", { class: "hint" }, t("mail13.notify.hint")));
}
