/**
 * Attendees in the event editor: add people by typing (suggestions from
 * /api/people: contacts, groups, the domain's directory, recent), each one's
 * answer shown as an icon and words, and a scheduling grid: the meeting day's
 * hours against the organizer and every attendee, busy times from
 * /api/calendar/freebusy (an address the server cannot see is hatched), where
 * a click on a slot moves the meeting there.
 */
import type { EventAttendee, FreeBusyResponse, Partstat, PersonSuggestion } from "../../../protocols/http/webmail/api-types.ts";
import { api } from "../api.ts";
import { h, icon } from "../dom.ts";
import { dateFormat, t } from "../i18n/index.ts";
import { debounce } from "../util.ts";
import { addDays, dayStart, wallToMs } from "./dates.ts";

const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;
const ANSWER_ICON: Record<Partstat, string> = { ACCEPTED: "✓", TENTATIVE: "?", DECLINED: "✗", "NEEDS-ACTION": "…", DELEGATED: "→" };

export interface AttendeesEditor {
  el: HTMLElement;
  value(): EventAttendee[];
  /** The meeting's day or time changed: redraw the grid if it is open. */
  refresh(): void;
  /** Answers arrived (a live change): each listed attendee takes the stored answer and note. */
  updateAnswers(stored: EventAttendee[]): void;
}

export function attendeesEditor(opts: {
  initial: EventAttendee[];
  me: string;
  editable: boolean;
  tz: () => string;
  /** The meeting's time now (from the editor's fields), null when the fields are not valid. */
  range: () => { start: number; end: number; day: string } | null;
  /** A free slot was chosen in the grid: move the meeting to start there. */
  moveTo: (start: number) => void;
}): AttendeesEditor {
  let people: EventAttendee[] = opts.initial.map((a) => ({ ...a }));
  const list = h("ul", { class: "cal-att-list", "aria-live": "polite" });
  const input = h("input", { type: "text", name: "attendee", autocomplete: "off", placeholder: t("cal.att.placeholder"), "aria-label": t("cal.att.add"), role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "cal-att-sugg" }) as HTMLInputElement;
  const sugg = h("ul", { class: "cal-att-sugg", id: "cal-att-sugg", role: "listbox", hidden: true });
  const gridBtn = h("button", { type: "button", class: "btn btn-small", "data-action": "scheduling", "aria-expanded": "false" }, t("cal.att.scheduling"));
  const grid = h("div", { class: "cal-sched", hidden: true });
  let suggestions: PersonSuggestion[] = [];
  let active = -1;

  const drawList = (): void => {
    list.replaceChildren(
      ...people.map((p, i) =>
        h(
          "li",
          { class: "cal-att", "data-address": p.address },
          h("span", { class: `cal-att-answer is-${p.partstat.toLowerCase()}`, "aria-hidden": "true" }, ANSWER_ICON[p.partstat] ?? "…"),
          h("span", { class: "cal-att-name" }, p.name || p.address, p.name ? h("span", { class: "cal-att-addr" }, ` <${p.address}>`) : null),
          h("span", { class: "cal-att-status" }, t(`cal.answer.${p.partstat}`)),
          p.comment ? h("span", { class: "cal-att-comment" }, `“${p.comment}”`) : null,
          opts.editable
            ? h("button", { type: "button", class: "btn btn-icon btn-small", "aria-label": t("cal.att.remove", { name: p.name || p.address }), onclick: () => ((people = people.filter((_, k) => k !== i)), drawList(), drawGrid()) }, icon("close"))
            : null,
        ),
      ),
    );
  };
  const add = (name: string, address: string): void => {
    const a = address.trim().toLowerCase();
    if (!ADDRESS.test(a) || a === opts.me.toLowerCase() || people.some((p) => p.address === a)) return;
    people.push({ address: a, name: name.trim(), partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true, comment: "" });
    drawList();
    drawGrid();
  };
  const closeSugg = (): void => {
    sugg.hidden = true;
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const pick = (s: PersonSuggestion): void => {
    input.value = "";
    closeSugg();
    if (s.group) {
      void api<{ members: { name: string; address: string }[] }>("GET", `/api/contacts/groups/${encodeURIComponent(s.group.book)}/${encodeURIComponent(s.group.id)}/expand`).then(
        (r) => r.members.slice(0, 200).forEach((m) => add(m.name, m.address)),
        () => {},
      );
    } else add(s.name, s.address);
  };
  const drawSugg = (): void => {
    sugg.replaceChildren(
      ...suggestions.map((s, i) =>
        h(
          "li",
          { id: `cal-att-s${i}`, role: "option", class: "cal-att-opt" + (i === active ? " is-active" : ""), "aria-selected": String(i === active), onmousedown: (e: MouseEvent) => (e.preventDefault(), pick(s)) },
          h("span", null, s.name || s.address),
          s.name ? h("span", { class: "cal-att-addr" }, ` ${s.address}`) : null,
        ),
      ),
    );
    sugg.hidden = !suggestions.length;
    input.setAttribute("aria-expanded", String(!sugg.hidden));
    if (active >= 0) input.setAttribute("aria-activedescendant", `cal-att-s${active}`);
  };
  let asked = "";
  const lookup = debounce((q: string) => {
    asked = q;
    void api<{ people: PersonSuggestion[] }>("GET", `/api/people?q=${encodeURIComponent(q)}`).then(
      (r) => {
        if (asked !== q || input.value.trim() !== q) return;
        suggestions = r.people.filter((p) => p.group || (p.address && !people.some((x) => x.address === p.address.toLowerCase()))).slice(0, 8);
        active = suggestions.length ? 0 : -1;
        drawSugg();
      },
      () => {},
    );
  }, 150);
  input.addEventListener("input", () => {
    const q = input.value.trim();
    if (q.length < 1) {
      closeSugg();
      return;
    }
    lookup(q);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!suggestions.length) return;
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + suggestions.length) % suggestions.length;
      drawSugg();
    } else if (e.key === "Enter" || e.key === "," || e.key === ";") {
      e.preventDefault();
      if (!sugg.hidden && active >= 0 && suggestions[active]) pick(suggestions[active]!);
      else if (ADDRESS.test(input.value.trim())) {
        add("", input.value);
        input.value = "";
        closeSugg();
      }
    } else if (e.key === "Escape" && !sugg.hidden) {
      e.preventDefault();
      e.stopPropagation();
      closeSugg();
    }
  });
  input.addEventListener("blur", () => setTimeout(closeSugg, 150));

  // ------------------------------------------------------------ scheduling grid
  let gridSeq = 0;
  const drawGrid = (): void => {
    if (grid.hidden) return;
    const r = opts.range();
    if (!r) {
      grid.replaceChildren(h("p", { class: "cal-empty" }, t("cal.err.times")));
      return;
    }
    const tz = opts.tz();
    const from = dayStart(r.day, tz);
    const to = dayStart(addDays(r.day, 1), tz);
    const span = to - from;
    const addrs = [opts.me.toLowerCase(), ...people.map((p) => p.address)];
    const seq = ++gridSeq;
    void api<FreeBusyResponse>("GET", `/api/calendar/freebusy?from=${from}&to=${to}&addresses=${encodeURIComponent(addrs.join(","))}`).then(
      (fb) => {
        if (seq !== gridSeq) return;
        const hours = h("div", { class: "cal-sched-hours", "aria-hidden": "true" }, h("span", { class: "cal-sched-label" }));
        const hourTrack = h("div", { class: "cal-sched-track" });
        for (let hr = 0; hr < 24; hr += 2) {
          const l = h("span", { class: "cal-sched-hour" }, dateFormat({ hour: "numeric" }, tz).format(wallToMs(r.day, hr * 60, tz)));
          l.style.left = `${(hr / 24) * 100}%`;
          hourTrack.append(l);
        }
        hours.append(hourTrack);
        const rows = addrs.map((a) => {
          const entry = fb.people.find((p) => p.address.toLowerCase() === a);
          const known = entry?.busy ?? null;
          const track = h("div", { class: "cal-sched-track" + (known ? "" : " is-unknown"), "data-address": a, title: known ? "" : t("cal.att.unknown") });
          for (const b of known ?? []) {
            const blk = h("div", { class: "cal-sched-busy" + (b.type === "BUSY-TENTATIVE" ? " is-tentative" : ""), title: t("cal.att.busy") });
            blk.style.left = `${(Math.max(0, b.start - from) / span) * 100}%`;
            blk.style.width = `${((Math.min(to, b.end) - Math.max(from, b.start)) / span) * 100}%`;
            track.append(blk);
          }
          const meet = h("div", { class: "cal-sched-meeting", "aria-hidden": "true" });
          meet.style.left = `${(Math.max(0, r.start - from) / span) * 100}%`;
          meet.style.width = `${((Math.min(to, r.end) - Math.max(from, r.start)) / span) * 100}%`;
          track.append(meet);
          const who = people.find((p) => p.address === a);
          return h("div", { class: "cal-sched-row" }, h("span", { class: "cal-sched-label" }, a === opts.me.toLowerCase() ? t("cal.att.you") : who?.name || a), track);
        });
        const body = h("div", { class: "cal-sched-grid" }, hours, ...rows);
        body.addEventListener("click", (e) => {
          const track = (e.target as HTMLElement).closest<HTMLElement>(".cal-sched-track");
          if (!track || !opts.editable) return;
          const rect = track.getBoundingClientRect();
          const half = Math.max(0, Math.min(47, Math.floor(((e.clientX - rect.left) / rect.width) * 48)));
          opts.moveTo(wallToMs(r.day, half * 30, tz));
        });
        grid.replaceChildren(h("p", { class: "cal-sched-hint" }, t("cal.att.hint")), body);
      },
      (e: unknown) => {
        if (seq === gridSeq) grid.replaceChildren(h("p", { class: "cal-empty" }, e instanceof Error ? e.message : String(e)));
      },
    );
  };
  gridBtn.addEventListener("click", () => {
    grid.hidden = !grid.hidden;
    gridBtn.setAttribute("aria-expanded", String(!grid.hidden));
    drawGrid();
  });

  drawList();
  const el = h(
    "fieldset",
    { class: "cal-att-box" },
    h("legend", null, t("cal.att.title")),
    list,
    opts.editable ? h("div", { class: "cal-att-add" }, input, sugg) : null,
    gridBtn,
    grid,
  );
  const updateAnswers = (stored: EventAttendee[]): void => {
    for (const p of people) {
      const s = stored.find((x) => x.address === p.address);
      if (s) {
        p.partstat = s.partstat;
        p.comment = s.comment;
      }
    }
    drawList();
  };
  return { el, value: () => people.map((p) => ({ ...p })), refresh: drawGrid, updateAnswers };
}
