"""
The python3-caldav scenario (Debian python3-caldav 0.11), run by
python-caldav.test.ts once against Radicale and once against Pillarbox.

  python3 caldav_scenario.py URL USER PASSWORD CAFILE TASKS
    URL    where discovery starts (the server's root / DAV base)
    TASKS  "mk" (make a VTODO calendar, as Radicale needs) or "default" (use
           the calendar home's default task list, as Pillarbox provides)

Prints one JSON object: what each step saw, in a server-neutral form (no
hrefs, no ETags, no sync-token values) so the two runs can be compared.
Event texts come from the environment (EV_SIMPLE, EV_RECUR, TODO) so the
TypeScript test owns the fixtures.
"""
import json
import os
import sys
from datetime import datetime, timezone

import caldav

url, user, password, cafile, tasks_mode = sys.argv[1:6]
out = {}


def utc(dt):
    """A DTSTART/RECURRENCE-ID value as an ISO UTC string (dates stay dates)."""
    if isinstance(dt, datetime):
        if dt.tzinfo is None:
            return dt.isoformat() + " floating"
        return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.isoformat()


def instances(objs):
    """(start, summary, recurrence-id) of every VEVENT in the objects, sorted."""
    seen = []
    for o in objs:
        for comp in o.vobject_instance.components():
            if comp.name != "VEVENT":
                continue
            rid = comp.contents.get("recurrence-id")
            seen.append(
                [
                    utc(comp.dtstart.value),
                    comp.summary.value,
                    utc(rid[0].value) if rid else None,
                ]
            )
    return sorted(seen)


client = caldav.DAVClient(url=url, username=user, password=password, ssl_verify_cert=cafile)

# Discovery (RFC 5397 current-user-principal, RFC 4791 §6.2.1 calendar-home-set).
principal = client.principal()
home = principal.calendar_home_set
out["principal_found"] = principal.url is not None
out["home_found"] = home.url is not None

# MKCALENDAR, then it must be listed in the home.
cal = principal.make_calendar(name="Scenario Calendar", cal_id="scenario")
out["calendar_listed"] = any(str(c.url).rstrip("/").endswith("/scenario") for c in principal.calendars())
out["calendar_name"] = cal.get_display_name()

# Sync token before any object (RFC 6578).
first = cal.objects_by_sync_token()
out["sync_initial_count"] = len(list(first))

# Save a single event and a recurring one with an EXDATE and a moved instance.
simple = cal.save_event(os.environ["EV_SIMPLE"])
recur = cal.save_event(os.environ["EV_RECUR"])
out["objects_after_save"] = len(cal.events())

# Incremental sync: both new objects come back.
upd, dele = first.sync()
out["sync_after_save"] = {"updated": len(upd), "deleted": len(dele)}

# A VTODO in a task list.
if tasks_mode == "mk":
    tasks = principal.make_calendar(name="Scenario Tasks", cal_id="scenario-tasks", supported_calendar_component_set=["VTODO"])
else:
    tasks = None
    for c in principal.calendars():
        comps = c.get_supported_components()
        if comps == ["VTODO"]:
            tasks = c
            break
    if tasks is None:
        raise SystemExit("no default task list (supported-calendar-component-set VTODO) in the calendar home")
tasks.save_todo(os.environ["TODO"])
todos = tasks.todos()
out["todos"] = sorted(t.vobject_instance.vtodo.summary.value for t in todos)

# A month with expansion: the instances, the moved one included, the EXDATE'd one absent.
start = datetime(2026, 1, 1, tzinfo=timezone.utc)
end = datetime(2026, 2, 1, tzinfo=timezone.utc)
out["month_expanded"] = instances(cal.search(start=start, end=end, event=True, expand=True))
out["month_date_search"] = sorted(o.vobject_instance.vevent.uid.value for o in cal.date_search(start, end, expand=False))
# February holds only plain weekly instances.
out["feb_expanded"] = instances(
    cal.search(start=datetime(2026, 2, 1, tzinfo=timezone.utc), end=datetime(2026, 3, 1, tzinfo=timezone.utc), event=True, expand=True)
)

# Did the server expand itself (RFC 4791 §9.6.5)? Asked raw, without the library's client-side fallback.
report = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data><C:expand start="20260101T000000Z" end="20260201T000000Z"/></C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="20260101T000000Z" end="20260201T000000Z"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""
raw = client.report(str(cal.url), report, depth=1)
out["server_expand_status"] = raw.status
out["server_expanded"] = b"RRULE" not in raw.raw.encode() if isinstance(raw.raw, str) else b"RRULE" not in raw.raw

# Update: a new summary, read back from a fresh load.
simple.load()
simple.vobject_instance.vevent.summary.value = "Simple (updated)"
simple.save()
again = cal.event_by_uid("simple-1@pillarbox.test")
out["updated_summary"] = again.vobject_instance.vevent.summary.value

# Incremental sync: one update, then one deletion.
tok = cal.objects_by_sync_token()
recur.delete()
upd, dele = tok.sync()
out["sync_after_delete"] = {"updated": len(upd), "deleted": len(dele)}
out["objects_after_delete"] = sorted(e.vobject_instance.vevent.uid.value for e in cal.events())

# Deleted object: a fresh lookup fails.
try:
    cal.event_by_uid("recur-1@pillarbox.test")
    out["deleted_lookup"] = "found"
except caldav.error.NotFoundError:
    out["deleted_lookup"] = "not-found"

# Delete the calendar itself.
cal.delete()
out["calendar_listed_after_delete"] = any(str(c.url).rstrip("/").endswith("/scenario") for c in principal.calendars())

print(json.dumps(out, sort_keys=True))
