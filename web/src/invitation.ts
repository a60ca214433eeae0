/**
 * The invitation card in the reading pane (issue 17, "Invitations in mail"):
 * a message carrying a meeting invitation, update, cancellation or answer
 * (iMIP, RFC 6047) shows the event above its body — title, time in the
 * user's zone (and in the event's own zone when that differs), organizer,
 * place, attendees, conflicts with the user's calendar and what changed —
 * with Accept / Tentative / Decline and an optional note, or for a
 * cancellation "Remove from calendar". The server does the work
 * (protocols/http/webmail/invitation-api.ts); this only shows and asks.
 */
import { api, ApiError } from "./api.ts";
import { h, clear } from "./dom.ts";
import { dateFormat, lang, t, timeZone, tn } from "./i18n/index.ts";
import "./i18n/invite.ts";
import type { InvitationAnswer, InvitationChange, InvitationView } from "../../protocols/http/webmail/api-types.ts";

export interface InvitationHost {
  error(err: unknown): void;
}

type Answer = NonNullable<InvitationAnswer["partstat"]>;
const ANSWERS: readonly { partstat: Answer; key: string }[] = [
  { partstat: "ACCEPTED", key: "invite.accept" },
  { partstat: "TENTATIVE", key: "invite.tentative" },
  { partstat: "DECLINED", key: "invite.decline" },
];

let seq = 0;

/**
 * A placeholder that becomes the card once the server answered; stays empty
 * (and hidden) when the message's calendar part can't be shown (404).
 */
export function invitationCard(messageId: number, host: InvitationHost): HTMLElement {
  const slot = h("section", { class: "invite-slot", "aria-label": t("invite.label"), hidden: true });
  void api<InvitationView>("GET", `/api/messages/${messageId}/invitation`).then(
    (view) => {
      slot.hidden = false;
      render(slot, messageId, view, host, "");
    },
    (err) => {
      // No card for a calendar part that is missing, unreadable or too large: the message reads as any other.
      if (err instanceof ApiError && err.status === 404) return;
      host.error(err);
    },
  );
  return slot;
}

// ------------------------------------------------------------------ formatting

const DAY: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short", year: "numeric" };
const TIME: Intl.DateTimeFormatOptions = { hour: "numeric", minute: "2-digit" };

/** "YYYY-MM-DD" as a date (formatted in UTC, where its midnight is). */
function dateText(date: string, opts: Intl.DateTimeFormatOptions = DAY): string {
  const [y, m, d] = date.split("-").map(Number);
  return dateFormat(opts, "UTC").format(Date.UTC(y!, (m ?? 1) - 1, d ?? 1));
}

function dayBefore(date: string): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y!, (m ?? 1) - 1, (d ?? 1) - 1)).toISOString().slice(0, 10);
}

/** A span in the user's zone: "Thu, Dec 10, 2026, 10:00 – 11:00", across days with both dates, all-day with the dates. */
export function spanText(s: { start: number; end: number; allDay: boolean; startDate: string | null; endDate: string | null }, tz: string = timeZone()): string {
  if (s.allDay && s.startDate) {
    const last = s.endDate && s.endDate > s.startDate ? dayBefore(s.endDate) : s.startDate;
    const days = last === s.startDate ? dateText(s.startDate) : `${dateText(s.startDate)} – ${dateText(last)}`;
    return `${days} (${t("invite.allDay")})`;
  }
  const day = dateFormat(DAY, tz);
  const time = dateFormat(TIME, tz);
  const startDay = day.format(s.start);
  if (s.end <= s.start) return `${startDay}, ${time.format(s.start)}`;
  const endDay = day.format(s.end);
  return endDay === startDay ? `${startDay}, ${time.format(s.start)} – ${time.format(s.end)}` : `${startDay}, ${time.format(s.start)} – ${endDay}, ${time.format(s.end)}`;
}

/** Does `tz` put this instant at another wall-clock time than the user's zone? */
function otherZone(tz: string, at: number): boolean {
  if (!tz || tz === timeZone()) return false;
  try {
    const f = (z: string) => new Intl.DateTimeFormat("en", { timeZone: z, hour: "numeric", minute: "numeric", day: "numeric", hourCycle: "h23" }).format(at);
    return f(tz) !== f(timeZone());
  } catch {
    return false; // a zone this browser does not know: the user's zone alone
  }
}

const WEEKDAYS: Record<string, number> = { MO: 0, TU: 1, WE: 2, TH: 3, FR: 4, SA: 5, SU: 6 };

function weekdayName(code: string): string {
  // 2024-01-01 was a Monday.
  return dateFormat({ weekday: "long" }, "UTC").format(Date.UTC(2024, 0, 1 + (WEEKDAYS[code] ?? 0)));
}

/** An RRULE (RFC 5545 §3.3.10) in the user's language; the common shapes, else "custom rule". */
export function ruleText(rrule: string): string {
  const parts = new Map<string, string>();
  for (const kv of rrule.split(";")) {
    const i = kv.indexOf("=");
    if (i > 0) parts.set(kv.slice(0, i).toUpperCase(), kv.slice(i + 1));
  }
  const freq = parts.get("FREQ") ?? "";
  // Parts these words can't say ("the last weekday", hours, week numbers): a custom rule, not a wrong sentence.
  const unsaid = ["BYSETPOS", "BYHOUR", "BYMINUTE", "BYSECOND", "BYWEEKNO", "BYYEARDAY"].some((k) => parts.has(k));
  if (!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"].includes(freq) || unsaid) return t("invite.rule.custom");
  const interval = Math.max(1, Math.min(1000, Number(parts.get("INTERVAL") ?? "1") || 1));
  let out = tn(`invite.rule.${freq}`, interval);
  const byDay = (parts.get("BYDAY") ?? "").split(",").filter(Boolean).slice(0, 7);
  if (byDay.length) {
    const days = byDay.map((d) => {
      const m = /^([+-]?\d)?([A-Z]{2})$/i.exec(d);
      if (!m) return d;
      const name = weekdayName(m[2]!.toUpperCase());
      if (!m[1]) return name;
      const n = m[1].replace("+", "");
      const key = `invite.ord.${n}`;
      const ord = t(key);
      return t("invite.ordDay", { ord: ord === key ? n : ord, day: name });
    });
    out = t("invite.rule.on", { rule: out, days: new Intl.ListFormat(lang(), { type: "conjunction" }).format(days) });
  } else if (parts.get("BYMONTHDAY")) {
    out = t("invite.rule.onDay", { rule: out, days: parts.get("BYMONTHDAY")!.split(",").slice(0, 5).join(", ") });
  }
  const months = (parts.get("BYMONTH") ?? "").split(",").map(Number).filter((m) => m >= 1 && m <= 12).slice(0, 12);
  if (months.length) {
    const names = months.map((m) => dateFormat({ month: "long" }, "UTC").format(Date.UTC(2024, m - 1, 15)));
    out = t("invite.rule.inMonth", { rule: out, months: new Intl.ListFormat(lang(), { type: "conjunction" }).format(names) });
  }
  const count = Number(parts.get("COUNT") ?? "");
  const until = parts.get("UNTIL") ?? "";
  if (count > 0) out = tn("invite.rule.count", count, { rule: out });
  else if (/^\d{8}/.test(until)) out = t("invite.rule.until", { rule: out, date: dateText(`${until.slice(0, 4)}-${until.slice(4, 6)}-${until.slice(6, 8)}`) });
  return out;
}

function changeText(c: InvitationChange): string {
  switch (c.field) {
    case "time":
      return t("invite.change.time", { before: c.beforeTime ? spanText(c.beforeTime) : t("invite.none"), after: c.afterTime ? spanText(c.afterTime) : t("invite.none") });
    case "recurrence":
      return t("invite.change.recurrence", { before: c.before ? ruleText(c.before) : t("invite.once"), after: c.after ? ruleText(c.after) : t("invite.once") });
    case "title":
    case "location":
      return t(`invite.change.${c.field}`, { before: c.before || t("invite.none"), after: c.after || t("invite.none") });
    default:
      return "";
  }
}

/** The calendar's day of an instant in the user's zone, "YYYY-MM-DD" (for the #/calendar/<date> route). */
function isoDay(ms: number): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone(), year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
}

const person = (p: { name: string; address: string }) => (p.name ? `${p.name} <${p.address}>` : p.address);

// ------------------------------------------------------------------ the card

function render(slot: HTMLElement, messageId: number, v: InvitationView, host: InvitationHost, notice: string): void {
  clear(slot);
  const id = `invite-${++seq}`;
  const update = v.method === "REQUEST" && (v.fieldChanges?.length ?? 0) > 0;
  const badgeKey = v.method === "REQUEST" ? (update ? "invite.badge.update" : "invite.badge.REQUEST") : ["CANCEL", "REPLY", "COUNTER"].includes(v.method) ? `invite.badge.${v.method}` : "invite.badge.other";
  const cancelled = v.cancelled === true;
  const card = h("div", { class: "invite-card" + (cancelled ? " invite-cancelled" : ""), "data-method": v.method });
  card.append(
    h("div", { class: "invite-head" }, h("span", { class: "invite-badge" }, t(badgeKey)), h("h3", { class: "invite-title", id: `${id}-title` }, v.title || t("invite.none"))),
  );
  slot.setAttribute("aria-labelledby", `${id}-title`);

  const facts = h("dl", { class: "invite-facts" });
  const fact = (label: string, ...value: (Node | string | null)[]) => facts.append(h("div", { class: "invite-fact" }, h("dt", null, label), h("dd", null, ...value)));
  const own = !v.allDay && otherZone(v.timeZone, v.start) ? t("invite.eventZone", { time: spanText(v, v.timeZone), zone: v.timeZone }) : null;
  fact(t("invite.when"), h("span", { class: "invite-when" }, spanText(v)), own ? h("span", { class: "invite-zone" }, own) : null, v.recurrenceId !== null ? h("span", { class: "invite-zone" }, t("invite.occurrence")) : null);
  const rrule = v.rrule ?? "";
  if (rrule) fact(t("invite.repeats"), ruleText(rrule));
  if (v.location) fact(t("invite.where"), h("span", { class: "invite-location" }, v.location));
  if (v.organizer) fact(t("invite.organizer"), h("span", { class: "invite-organizer" }, person(v.organizer)));
  if (v.attendees.length) {
    const list = h(
      "ul",
      { class: "invite-attendees" },
      v.attendees.slice(0, 100).map((a) => h("li", null, person(a), h("span", { class: "invite-ps" }, ` · ${t(`invite.ps.${a.partstat}`)}`))),
    );
    // Collapsed: a meeting with 40 people should not push the mail off the screen.
    fact(t("invite.attendees"), h("details", { class: "invite-more" }, h("summary", null, tn("invite.attendeeCount", v.attendees.length)), list));
  }
  card.append(facts);

  const changes = (v.fieldChanges ?? []).filter((c) => c.field !== "cancelled").map(changeText).filter(Boolean);
  if (changes.length) card.append(h("div", { class: "invite-changes", role: "note" }, h("strong", null, t("invite.changed")), h("ul", null, changes.map((c) => h("li", null, c)))));

  if (v.method === "REQUEST" && !cancelled) {
    card.append(
      v.conflicts.length
        ? h(
            "div",
            { class: "invite-conflicts", role: "note" },
            h("strong", null, t("invite.conflicts")),
            h("ul", null, v.conflicts.map((c) => h("li", null, `${c.title || t("invite.none")} · ${spanText({ ...c, startDate: null, endDate: null, allDay: false })}`))),
          )
        : h("p", { class: "invite-noconflicts" }, t("invite.noConflicts")),
    );
  }
  if (v.outdated) card.append(h("p", { class: "invite-note" }, t("invite.outdated")));

  const status = h("p", { class: "invite-status", role: "status" });
  const say = (text: string) => {
    status.textContent = text;
  };
  if (notice) say(notice);
  else if (cancelled) say(t(v.recurrenceId !== null ? "invite.cancelledOne" : "invite.cancelled") + (v.method === "CANCEL" && !v.inCalendar ? ` ${t("invite.notInCalendar")}` : ""));
  else if (v.reply) say(t(`invite.reply.${v.reply.partstat}`, { name: v.reply.name || v.reply.address }));
  else if (v.myPartstat) say(t(`invite.my.${v.myPartstat}`));
  else if (v.isOrganizer && v.method === "REQUEST") say(t("invite.youOrganize"));
  card.append(status);
  if (v.reply?.comment) card.append(h("p", { class: "invite-reply-note" }, t("invite.replyComment", { text: v.reply.comment })));

  const actions = h("div", { class: "invite-actions" });
  if (v.canAnswer) {
    const noteId = `${id}-note`;
    const note = h("textarea", { id: noteId, class: "invite-comment", rows: 2, maxlength: 2000 }) as HTMLTextAreaElement;
    const buttons = ANSWERS.map(({ partstat, key }) => {
      const current = v.myPartstat === partstat;
      const b = h("button", { type: "button", class: "btn" + (partstat === "ACCEPTED" ? " btn-primary" : ""), "data-partstat": partstat, "aria-pressed": current ? "true" : "false" }, t(key)) as HTMLButtonElement;
      b.addEventListener("click", () => void answer(partstat));
      return b;
    });
    const answer = async (partstat: Answer) => {
      for (const b of buttons) b.disabled = true;
      say(t("invite.sending"));
      try {
        const next = await api<InvitationView>("POST", `/api/messages/${messageId}/invitation`, { partstat, comment: note.value } satisfies InvitationAnswer);
        const organizer = next.organizer ? next.organizer.name || next.organizer.address : "";
        render(slot, messageId, next, host, `${t(`invite.my.${partstat}`)} ${t("invite.sent", { name: organizer })}`);
        (slot.querySelector(`[data-partstat="${partstat}"]`) as HTMLElement | null)?.focus();
      } catch (err) {
        for (const b of buttons) b.disabled = false;
        say("");
        host.error(err);
      }
    };
    card.append(
      h("div", { class: "invite-answer" }, h("label", { for: noteId, class: "invite-comment-label" }, t("invite.comment")), note),
      h("div", { class: "invite-buttons", role: "group", "aria-label": t("invite.answers") }, buttons),
    );
  }
  if (v.canRemove) {
    const remove = h("button", { type: "button", class: "btn", "data-action": "invite-remove" }, t("invite.remove")) as HTMLButtonElement;
    remove.addEventListener("click", () => {
      remove.disabled = true;
      api<InvitationView>("POST", `/api/messages/${messageId}/invitation`, { action: "remove" } satisfies InvitationAnswer).then(
        (next) => render(slot, messageId, next, host, t("invite.removed")),
        (err) => {
          remove.disabled = false;
          host.error(err);
        },
      );
    });
    actions.append(remove);
  }
  if (v.inCalendar || v.canAnswer) {
    const open = h("button", { type: "button", class: "btn", "data-action": "invite-open" }, t("invite.open"));
    open.addEventListener("click", () => {
      location.hash = `#/calendar/${v.allDay && v.startDate ? v.startDate : isoDay(v.start)}`;
    });
    actions.append(open);
  }
  if (actions.childElementCount) card.append(actions);
  slot.append(card);
}
