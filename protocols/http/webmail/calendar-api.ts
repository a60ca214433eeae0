/**
 * /api/calendar/...: the webmail calendar over the groupware core. Every
 * write goes through ctx.groupware with the account as actor, so the
 * implicit scheduler (src/groupware/scheduling/) sends invitations, updates,
 * cancellations and replies by iMIP exactly as for a CalDAV client's write.
 * The event shapes are src/groupware/model/ (EventData ⇄ iCalendar).
 */
import type { Hono } from "hono";
import ICAL from "ical.js";
import type { ServerContext } from "../../../src/context.ts";
import type { Account } from "../../../storage/api.ts";
import type { Collection, StoredObject } from "../../../src/groupware/types.ts";
import { expandInstances, parseCalendarObject, serialize, splitICalendar, type CalendarObject } from "../../../src/groupware/ical/index.ts";
import { ParsedCache } from "../../../src/groupware/objects.ts";
import { floatingZone } from "../../../src/groupware/ical/zones.ts";
import { directoryEntry } from "../../../src/groupware/directory.ts";
import { answerMeeting } from "../../../src/groupware/scheduling/answer.ts";
import { checkEventData, eventFromComponent, eventFromObject, startForm, userMayEdit } from "../../../src/groupware/model/event.ts";
import { editSeries, deleteFromSeries } from "../../../src/groupware/model/series.ts";
import { masterOf, recurrenceIdOf, remindersOf, text, newCalendar, PRODID } from "../../../src/groupware/model/component.ts";
import { formatDate, wallAsUtc, wallOf } from "../../../src/groupware/model/time.ts";
import type { EventData, EventInstance, Partstat, SeriesScope } from "../../../src/groupware/model/types.ts";
import type { AppEnv } from "../types.ts";
import type { EventResponse, EventWrite, FreeBusyResponse, ImportResult, InstancesResponse } from "./api-types.ts";
import {
  addressesOf, checkEtag, guarded, msParam, newResourceName, ownCollection, ownObject, readRoot, userZoneOf,
} from "./groupware-util.ts";
import { ApiError, contentDisposition, readJson } from "./util.ts";

const DAY_MS = 86_400_000;
/** The longest range one instances request may ask for. */
export const MAX_RANGE_DAYS = 400;
/** Instances in one answer; more: `truncated`. */
export const MAX_INSTANCES = 5000;
const MAX_FREEBUSY_ADDRESSES = 100;
const MAX_IMPORT_OBJECTS = 10_000;
const SCOPES: readonly SeriesScope[] = ["all", "this", "following"];

export interface CalendarApiDeps {
  ctx: ServerContext;
}

function rangeOf(from: string | undefined, to: string | undefined): { start: number; end: number } {
  const start = msParam(from, "from");
  const end = msParam(to, "to");
  if (end <= start) throw new ApiError(400, "bad_range", "The end of the range must be after its start.");
  if (end - start > MAX_RANGE_DAYS * DAY_MS) throw new ApiError(400, "bad_range", `A range is at most ${MAX_RANGE_DAYS} days.`);
  return { start, end };
}

function scopeOf(v: unknown): SeriesScope {
  if (v === undefined || v === null || v === "") return "all";
  if (typeof v !== "string" || !(SCOPES as readonly string[]).includes(v)) throw new ApiError(400, "bad_scope", "The scope is all, this or following.");
  return v as SeriesScope;
}

function optionalMs(v: unknown): number | null {
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) throw new ApiError(400, "bad_request", "recurrenceId must be a time in milliseconds.");
  return n;
}

interface Who {
  account: Account;
  zone: string;
  mine: Set<string>;
}

async function who(ctx: ServerContext, account: Account): Promise<Who> {
  return { account, zone: userZoneOf(account), mine: await addressesOf(ctx, account) };
}

function partstatOf(comp: ICAL.Component, mine: ReadonlySet<string>): Partstat | null {
  for (const p of comp.getAllProperties("attendee")) {
    const a = String(p.getFirstValue() ?? "").replace(/^mailto:/i, "").trim().toLowerCase();
    if (!mine.has(a)) continue;
    const ps = String(p.getParameter("partstat") ?? "NEEDS-ACTION").toUpperCase();
    return (["NEEDS-ACTION", "ACCEPTED", "TENTATIVE", "DECLINED", "DELEGATED"].includes(ps) ? ps : "NEEDS-ACTION") as Partstat;
  }
  return null;
}

/** The EventInstances of one object in a range (its body parsed once). */
function instancesOf(cal: Collection, object: StoredObject, parsed: CalendarObject, range: { start: number; end: number }, w: Who): EventInstance[] {
  if (parsed.kind !== "VEVENT") return [];
  const floating = floatingZone(w.zone);
  const comps = parsed.root.getAllSubcomponents("vevent");
  const master = comps.find((c) => !c.hasProperty("recurrence-id")) ?? null;
  const byRid = new Map<number, ICAL.Component>();
  for (const c of comps) {
    const r = recurrenceIdOf(c, floating);
    if (r !== null) byRid.set(r, c);
  }
  const recurring = !!master && (master.hasProperty("rrule") || master.hasProperty("rdate"));
  const out: EventInstance[] = [];
  for (const i of expandInstances(parsed, range, { floatingTz: w.zone })) {
    const comp = (i.recurrenceId !== null ? byRid.get(i.recurrenceId) : undefined) ?? master ?? comps[0]!;
    const organizer = String(comp.getFirstPropertyValue("organizer") ?? "").replace(/^mailto:/i, "").trim().toLowerCase();
    const attendeeCount = comp.getAllProperties("attendee").length;
    const isOrganizer = !!organizer && w.mine.has(organizer) && attendeeCount > 0;
    const privacy = text(comp, "class").toUpperCase();
    out.push({
      calendar: cal.name,
      id: object.resourceName,
      etag: object.etag,
      uid: parsed.uid,
      recurrenceId: i.recurrenceId,
      start: i.start,
      end: i.end,
      allDay: i.allDay,
      startDate: i.allDay ? formatDate(wallOf(i.start, floating)) : null,
      endDate: i.allDay ? formatDate(wallOf(i.end, floating)) : null,
      title: text(comp, "summary"),
      location: text(comp, "location"),
      recurring: recurring || byRid.size > 0,
      overridden: i.overridden,
      status: i.status,
      showAs: i.transparent ? "free" : "busy",
      myPartstat: organizer && !w.mine.has(organizer) ? partstatOf(comp, w.mine) : null,
      isOrganizer,
      attendeeCount,
      reminders: remindersOf(comp),
      privacy: privacy === "PRIVATE" || privacy === "CONFIDENTIAL" ? privacy : "PUBLIC",
    });
  }
  return out;
}

/** EventResponse of a stored object: the master, or one occurrence. */
async function eventResponse(ctx: ServerContext, cal: Collection, object: StoredObject, recurrenceId: number | null, w: Who): Promise<EventResponse> {
  const root = await readRoot(ctx, object);
  const floating = floatingZone(w.zone);
  const event = eventFromObject(root, recurrenceId, w.zone, w.mine);
  const overrides: number[] = [];
  for (const c of root.getAllSubcomponents("vevent")) {
    const r = recurrenceIdOf(c, floating);
    if (r !== null) overrides.push(r);
  }
  return { calendar: cal.name, id: object.resourceName, etag: object.etag, event, overrides: overrides.sort((a, b) => a - b), editable: userMayEdit(root, w.mine) };
}

function bodyOf(root: ICAL.Component): Uint8Array {
  return new TextEncoder().encode(serialize(root));
}

function user(w: Who): { address: string; name: string } {
  const name = typeof w.account.settings.displayName === "string" ? w.account.settings.displayName : "";
  return { address: w.account.email.toLowerCase(), name };
}

/** A write request's body, checked. */
function eventWrite(body: unknown): { data: EventData; etag: string | undefined; scope: SeriesScope; recurrenceId: number | null; notify: boolean } {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "bad_request", "The request must be an object with an event.");
  const b = body as Partial<Record<keyof EventWrite, unknown>>;
  const data = checkEventData(b.event);
  if (b.etag !== undefined && typeof b.etag !== "string") throw new ApiError(400, "bad_request", "etag must be text.");
  if (b.notify !== undefined && typeof b.notify !== "boolean") throw new ApiError(400, "bad_request", "notify must be true or false.");
  return { data, etag: b.etag as string | undefined, scope: scopeOf(b.scope), recurrenceId: optionalMs(b.recurrenceId), notify: b.notify !== false };
}

export function mountCalendarApi(app: Hono<AppEnv>, deps: CalendarApiDeps): void {
  const { ctx } = deps;
  const gw = ctx.groupware;
  // Parsed objects by item id and modseq (a write makes a new entry): a view reloaded or moved a week reads each event once.
  // The service's own cache when it has one (GroupwareService.cache: objectsInRange has just parsed the recurring
  // candidates into it), so an event is not parsed twice; the objects in it are never modified.
  const shared = (gw as { cache?: unknown }).cache;
  const parsedCache = shared instanceof ParsedCache ? shared : new ParsedCache(5000, 8 * 1024 * 1024);

  app.get("/api/calendar/instances", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const range = rangeOf(c.req.query("from"), c.req.query("to"));
      const w = await who(ctx, a);
      await gw.ensureDefaults(a);
      const names = c.req.query("calendars");
      let cals: Collection[];
      if (names) {
        const list = names.split(",").filter(Boolean);
        if (list.length > 500) throw new ApiError(400, "bad_request", "Too many calendars in one request.");
        cals = [];
        for (const n of new Set(list)) cals.push(await ownCollection(ctx, a, n, "calendar"));
      } else cals = await gw.listCollections(a, "calendar");
      const out: EventInstance[] = [];
      let truncated = false;
      // The store indexes all-day times in UTC: a day around the range finds those of any zone.
      const wide = { start: range.start - DAY_MS, end: range.end + DAY_MS };
      outer: for (const cal of cals) {
        for (const object of await gw.objectsInRange(cal, wide)) {
          let list: EventInstance[];
          try {
            let parsed = parsedCache.get(object.item);
            if (!parsed) {
              parsed = parseCalendarObject(await gw.readBody(object), { stored: true });
              parsedCache.set(object.item, parsed);
            }
            list = instancesOf(cal, object, parsed, range, w);
          } catch (e) {
            ctx.log.warn("calendar view left out an event it could not read", { user: a.email, calendar: cal.name, id: object.resourceName, error: e instanceof Error ? e.message : String(e) });
            continue;
          }
          for (const i of list) {
            if (out.length >= MAX_INSTANCES) {
              truncated = true;
              break outer;
            }
            out.push(i);
          }
        }
      }
      out.sort((x, y) => x.start - y.start || x.end - y.end || x.title.localeCompare(y.title));
      const res: InstancesResponse = { timeZone: w.zone, instances: out, truncated };
      c.header("cache-control", "no-store");
      return c.json(res);
    }),
  );

  app.get("/api/calendar/freebusy", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const range = rangeOf(c.req.query("from"), c.req.query("to"));
      const addresses = [...new Set((c.req.query("addresses") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean))];
      if (addresses.length > MAX_FREEBUSY_ADDRESSES) throw new ApiError(400, "bad_request", `At most ${MAX_FREEBUSY_ADDRESSES} people at once.`);
      const people: FreeBusyResponse["people"] = [];
      for (const address of addresses) {
        // Only the accounts of the user's own domain (the directory's rule): others are unknown.
        const entry = address.length <= 320 ? await directoryEntry(ctx.store, a, address) : null;
        const target = entry && entry.memberIds.length === 1 ? await ctx.store.getAccountById(entry.accountId) : null;
        if (!target) {
          people.push({ address, busy: null });
          continue;
        }
        const busy = await gw.freeBusy(target, range);
        people.push({ address, busy: busy.map((b) => ({ start: b.start, end: b.end, type: b.type })) });
      }
      c.header("cache-control", "no-store");
      return c.json({ people } satisfies FreeBusyResponse);
    }),
  );

  app.get("/api/calendar/events/:cal/:id", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = await who(ctx, a);
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const object = await ownObject(ctx, cal, c.req.param("id"));
      c.header("cache-control", "no-store");
      return c.json(await eventResponse(ctx, cal, object, optionalMs(c.req.query("recurrenceId")), w));
    }),
  );

  app.post("/api/calendar/events/:cal", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = await who(ctx, a);
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const req = eventWrite(await readJson(c));
      if (req.data.recurrenceId !== null) throw new ApiError(400, "bad_request", "A new event cannot be one occurrence of a series.");
      const { root } = editSeries(newCalendar(), { ...req.data, uid: "" }, "all", null, { userZone: w.zone, user: user(w), mine: w.mine });
      const { object } = await gw.putObject(cal, newResourceName(), bodyOf(root), { ifNoneMatch: "*", actor: a, schedule: req.notify });
      return c.json(await eventResponse(ctx, cal, object, null, w), 201);
    }),
  );

  app.put("/api/calendar/events/:cal/:id", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = await who(ctx, a);
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const object = await ownObject(ctx, cal, c.req.param("id"));
      const req = eventWrite(await readJson(c));
      checkEtag(object, req.etag);
      const root = await readRoot(ctx, object);
      const opts = { userZone: w.zone, user: user(w), mine: w.mine };
      let data = req.data;
      const rid = req.scope === "all" ? null : (req.recurrenceId ?? data.recurrenceId);
      if (!userMayEdit(root, w.mine)) {
        // An attendee's copy: only their own reminders change (the organizer owns the rest; answers go through respond).
        const current = eventFromObject(root, rid, w.zone, w.mine);
        data = { ...current, reminders: data.reminders };
      }
      const { root: edited, tail } = editSeries(root, data, req.scope, rid, opts);
      const put = await gw.putObject(cal, object.resourceName, bodyOf(edited), { ifMatch: object.etag, actor: a, schedule: req.notify });
      if (tail) {
        const created = await gw.putObject(cal, newResourceName(), bodyOf(tail), { ifNoneMatch: "*", actor: a, schedule: req.notify });
        return c.json(await eventResponse(ctx, cal, created.object, null, w));
      }
      return c.json(await eventResponse(ctx, cal, put.object, req.scope === "this" ? rid : null, w));
    }),
  );

  app.delete("/api/calendar/events/:cal/:id", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = await who(ctx, a);
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const object = await ownObject(ctx, cal, c.req.param("id"));
      checkEtag(object, c.req.query("etag"));
      const scope = scopeOf(c.req.query("scope"));
      const notify = c.req.query("notify") !== "false";
      const root = await readRoot(ctx, object);
      const rest = deleteFromSeries(root, scope, optionalMs(c.req.query("recurrenceId")), w.zone);
      if (!rest) await gw.deleteObject(cal, object.resourceName, { ifMatch: object.etag, actor: a, schedule: notify });
      else await gw.putObject(cal, object.resourceName, bodyOf(rest), { ifMatch: object.etag, actor: a, schedule: notify });
      return c.json({ ok: true });
    }),
  );

  app.post("/api/calendar/events/:cal/:id/move", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = await who(ctx, a);
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const object = await ownObject(ctx, cal, c.req.param("id"));
      const body = await readJson<{ to?: unknown; etag?: unknown }>(c, 64 * 1024);
      if (typeof body?.to !== "string") throw new ApiError(400, "bad_request", "Say which calendar to move it to.");
      checkEtag(object, body.etag);
      const to = await ownCollection(ctx, a, body.to, "calendar");
      if (to.id === cal.id) return c.json(await eventResponse(ctx, cal, object, null, w));
      const { object: moved } = await gw.moveObject(cal, object.resourceName, to, object.resourceName, { ifMatch: object.etag, overwrite: false });
      return c.json(await eventResponse(ctx, to, moved, null, w));
    }),
  );

  app.post("/api/calendar/events/:cal/:id/respond", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = await who(ctx, a);
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const object = await ownObject(ctx, cal, c.req.param("id"));
      const body = await readJson<Record<string, unknown>>(c, 64 * 1024);
      const partstat = body?.partstat;
      if (partstat !== "ACCEPTED" && partstat !== "TENTATIVE" && partstat !== "DECLINED") throw new ApiError(400, "bad_request", "The answer is ACCEPTED, TENTATIVE or DECLINED.");
      const comment = body.comment === undefined || body.comment === null ? "" : body.comment;
      if (typeof comment !== "string" || comment.length > 2000) throw new ApiError(400, "bad_request", "The comment is text of at most 2,000 characters.");
      const scope = scopeOf(body.scope);
      if (scope === "following") throw new ApiError(400, "bad_scope", "Answer one occurrence or the whole series.");
      const rid = scope === "this" ? optionalMs(body.recurrenceId) : null;
      if (scope === "this" && rid === null) throw new ApiError(400, "bad_request", "Say which occurrence (recurrenceId) you answer.");
      const root = await readRoot(ctx, object);
      const main = masterOf(root, "vevent") ?? root.getFirstSubcomponent("vevent");
      if (!main) throw new ApiError(400, "bad_request", "This item is not an event.");
      const uid = text(main, "uid");
      // answer.ts reads a DATE or floating RECURRENCE-ID as UTC; the views place them in the user's zone.
      const form = startForm(main, w.zone);
      const instance = rid !== null && form.zone === null ? wallAsUtc(wallOf(rid, floatingZone(w.zone))) : rid;
      const r = await answerMeeting({ groupware: gw, account: a, mine: w.mine, uid, targets: [{ partstat, instance }], schedule: true, invitation: null, comment });
      return c.json(await eventResponse(ctx, r.collection, r.object, rid, w));
    }),
  );

  app.post("/api/calendar/import/:cal", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const textBody = await c.req.text();
      if (!/BEGIN:VCALENDAR/i.test(textBody)) throw new ApiError(400, "bad_file", "That is not an iCalendar (.ics) file.");
      const split = splitICalendar(textBody);
      const result: ImportResult = { imported: 0, updated: 0, errors: split.errors.slice(0, 100) };
      if (split.objects.length > MAX_IMPORT_OBJECTS) throw new ApiError(400, "too_many", `A file of at most ${MAX_IMPORT_OBJECTS} events can be imported at once.`);
      for (const objText of split.objects) {
        try {
          const parsed = parseCalendarObject(objText);
          if (parsed.kind !== "VEVENT") {
            result.errors.push(`${parsed.uid.slice(0, 80)}: a task, not an event (import it into a task list)`);
            continue;
          }
          // The same UID replaces the event (in whichever calendar it is); else a new resource here.
          const found = await gw.findByUid(a, "calendar", parsed.uid);
          const body = new TextEncoder().encode(objText);
          if (found) {
            await gw.putObject(found.collection, found.object.resourceName, body, { schedule: false });
            result.updated++;
          } else {
            await gw.putObject(cal, newResourceName(), body, { ifNoneMatch: "*", schedule: false });
            result.imported++;
          }
        } catch (e) {
          if (result.errors.length < 1000) result.errors.push(e instanceof Error ? e.message.slice(0, 300) : String(e));
        }
      }
      return c.json(result);
    }),
  );

  app.get("/api/calendar/export/:cal", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const cal = await ownCollection(ctx, a, c.req.param("cal"), "calendar");
      const out = newCalendar();
      out.removeAllProperties("prodid");
      out.addPropertyWithValue("prodid", PRODID);
      out.addPropertyWithValue("x-wr-calname", cal.displayName || cal.name);
      const zones = new Set<string>();
      const comps: ICAL.Component[] = [];
      for (const object of await gw.listObjects(cal)) {
        let root: ICAL.Component;
        try {
          root = await readRoot(ctx, object);
        } catch {
          continue;
        }
        // VTIMEZONEs once per TZID (RFC 5545 §3.6.5), events as stored.
        for (const z of root.getAllSubcomponents("vtimezone")) {
          const id = String(z.getFirstPropertyValue("tzid") ?? "");
          if (zones.has(id)) continue;
          zones.add(id);
          out.addSubcomponent(z);
        }
        for (const e of root.getAllSubcomponents()) if (e.name !== "vtimezone") comps.push(e);
      }
      for (const e of comps) out.addSubcomponent(e);
      const name = `${(cal.displayName || cal.name).replace(/[\\/:*?"<>|]/g, "_")}.ics`;
      return c.body(serialize(out), 200, {
        "content-type": "text/calendar; charset=utf-8",
        "content-disposition": contentDisposition("attachment", name),
        "cache-control": "no-store",
      });
    }),
  );
}

export { eventFromComponent };
