/**
 * RFC 6638 properties that the scheduling part adds to the DAV core:
 *  - C:schedule-default-calendar-URL (§9.2) on the schedule inbox: the
 *    calendar where the server puts invitations (the default "Calendar");
 *  - C:schedule-calendar-transp (§9.1) on calendars: every calendar counts
 *    for free/busy here ("opaque"); a client may set opaque, while
 *    "transparent" is refused with 403 because free/busy would not honour it;
 *  - C:supported-calendar-component-set on the inbox (iTIP messages of
 *    events and tasks).
 * The principal's calendar-user-address-set, calendar-user-type and inbox /
 * outbox URLs are the DAV core's (props-core.ts).
 */
import { registerProperty } from "./extensions.ts";
import { collectionHref } from "./types.ts";
import { CALDAV_NS, DAV_NS, child } from "./xml.ts";
import { x, xa } from "./xml-writer.ts";

registerProperty({
  ns: CALDAV_NS,
  name: "schedule-default-calendar-URL",
  kinds: ["schedule-inbox"],
  async get(dc) {
    await dc.groupware.ensureDefaults(dc.account);
    const list = await dc.groupware.listCollections(dc.account, "calendar");
    const c = list.find((l) => l.isDefault) ?? list[0];
    return c ? x(CALDAV_NS, "schedule-default-calendar-URL", x(DAV_NS, "href", collectionHref(dc.account.email, c))) : null;
  },
});

registerProperty({
  ns: CALDAV_NS,
  name: "schedule-calendar-transp",
  kinds: ["collection"],
  collectionKinds: ["calendar", "tasks"],
  get: () => x(CALDAV_NS, "schedule-calendar-transp", x(CALDAV_NS, "opaque")),
  set(_dc, _t, value) {
    if (value === null || child(value, CALDAV_NS, "opaque")) return { ok: true };
    return { ok: false, status: 403, description: "every calendar counts for free/busy on this server; schedule-calendar-transp stays opaque" };
  },
});

registerProperty({
  ns: CALDAV_NS,
  name: "supported-calendar-component-set",
  kinds: ["schedule-inbox"],
  get: () => x(CALDAV_NS, "supported-calendar-component-set", xa(CALDAV_NS, "comp", { name: "VEVENT" }), xa(CALDAV_NS, "comp", { name: "VTODO" })),
});
