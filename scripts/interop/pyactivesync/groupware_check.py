"""Extra checks with pyactivesync's library (not its test suite): the
groupware folders, Sync of a calendar, contacts and task folder with its own
WBXML codec on 16.1, ItemOperations Fetch, GetItemEstimate, GAL search,
ResolveRecipients, a Ping on a calendar, and an invitation from bob in the
Inbox (meeting request message class, .ics attachment name). Data is put
over CalDAV/CardDAV first. Run by scripts/interop/pyactivesync/run with the client's checkout on
PYTHONPATH and the same PYACTIVESYNC_TEST_* environment; prints one line per
check and "N passed, M failed".
"""
from __future__ import annotations

import os
import sys
import time
from types import SimpleNamespace

import requests

from pyactivesync import Client

SERVER = os.environ["PYACTIVESYNC_TEST_SERVER"]
USER = os.environ["PYACTIVESYNC_TEST_USER"]
PASSWORD = os.environ["PYACTIVESYNC_TEST_PASSWORD"]
DAV = f"https://{SERVER}/dav"
BOB = "bob@" + USER.split("@", 1)[1]

passed = 0
failed = 0


def check(name: str, ok: object, detail: object = "") -> bool:
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f" -- {str(detail)[:500]}" if detail != "" else ""))
    return bool(ok)


# pyactivesync has no Calendar (code page 4) or Contacts (code page 1) tables,
# so it names those elements "page4.0x26" and so on. The names of the tokens
# used here, from MS-ASWBXML §2.1.2.1.5 (Calendar) and §2.1.2.1.2 (Contacts):
TOKENS = {
    "page4": {0x05: "TimeZone", 0x06: "AllDayEvent", 0x12: "EndTime", 0x1C: "Type", 0x1E: "Occurrences", 0x26: "Subject", 0x27: "StartTime", 0x28: "UID"},
    "page1": {0x1B: "Email1Address", 0x1E: "FileAs", 0x1F: "FirstName", 0x29: "LastName", 0x2B: "MobilePhoneNumber"},
}
PAGE_NAMES = {"page4": "Calendar", "page1": "Contacts"}


def named(fields: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in fields.items():
        page, _, tok = k.partition(".")
        if page in TOKENS and tok.startswith("0x") and int(tok, 16) in TOKENS[page]:
            k = f"{PAGE_NAMES[page]}.{TOKENS[page][int(tok, 16)]}"
        out[k] = v
    return out


def put(path: str, body: str, ctype: str) -> None:
    r = requests.put(DAV + path, data=body.encode(), headers={"content-type": ctype}, auth=(USER, PASSWORD), timeout=30)
    if r.status_code >= 300:
        raise RuntimeError(f"PUT {path}: HTTP {r.status_code} {r.text[:200]}")


def vcal(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox interop//EN", *lines, "END:VCALENDAR", ""])


def items_of(client: Client, folder_id: str) -> list:
    boot = client.sync_folder(folder_id)
    out = []
    key = boot.sync_key
    for _ in range(20):
        r = client.sync_folder(folder_id, sync_key=key, window_size=100)
        key = r.sync_key
        out += [SimpleNamespace(server_id=i.server_id, fields=named(i.fields)) for i in r.added]
        if not r.more_available:
            break
    return out, key, boot.sync_key


def main() -> None:
    requests.request("PROPFIND", f"{DAV}/calendars/{USER}/", headers={"depth": "1"}, auth=(USER, PASSWORD), timeout=30)
    requests.request("PROPFIND", f"{DAV}/addressbooks/{USER}/", headers={"depth": "1"}, auth=(USER, PASSWORD), timeout=30)
    put(
        f"/calendars/{USER}/Calendar/py-event.ics",
        vcal("BEGIN:VEVENT", "UID:py-event-1", "DTSTAMP:20261201T000000Z", "DTSTART:20270107T130000Z", "DTEND:20270107T140000Z",
             "SUMMARY:Python event", "LOCATION:Room P", "RRULE:FREQ=DAILY;COUNT=3", "END:VEVENT"),
        "text/calendar",
    )
    put(f"/calendars/{USER}/Tasks/py-task.ics", vcal("BEGIN:VTODO", "UID:py-task-1", "DTSTAMP:20261201T000000Z", "DUE;VALUE=DATE:20270115", "SUMMARY:Python task", "END:VTODO"), "text/calendar")
    put(
        f"/addressbooks/{USER}/Contacts/py.vcf",
        "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", "UID:py-contact-1", "FN:Pia Python", "N:Python;Pia;;;", "EMAIL;TYPE=WORK:pia@example.org", "TEL;TYPE=CELL:+1 555 0400", "END:VCARD", ""]),
        "text/vcard",
    )

    with Client(server=SERVER, username=USER, password=PASSWORD, device_id="pyactivesyncgroupware1", user=USER) as client:
        folders = client.list_folders()
        by_type = {int(f.type): f for f in folders}
        check("FolderSync lists the default Calendar (8), Contacts (9), Tasks (7)", all(t in by_type for t in (7, 8, 9)), [(f.name, int(f.type)) for f in folders])
        cal, con, tsk = by_type.get(8), by_type.get(9), by_type.get(7)

        if cal:
            items, key, boot = items_of(client, cal.id)
            ev = next((i for i in items if i.fields.get("Calendar.Subject") == "Python event"), None)
            check("Sync Calendar: the event with subject, start and location", ev and ev.fields.get("Calendar.StartTime") == "20270107T130000Z" and ev.fields.get("AirSyncBase.DisplayName") == "Room P", [i.fields for i in items])
            check("Sync Calendar: its daily recurrence (Type 0, 3 occurrences)", ev and ev.fields.get("Calendar.Type") == "0" and ev.fields.get("Calendar.Occurrences") == "3", ev and ev.fields)
            check("Sync Calendar: a TimeZone blob", ev and ev.fields.get("Calendar.TimeZone"), ev and ev.fields)
            est = client.get_item_estimate(cal.id, boot)
            check("GetItemEstimate on the calendar after SyncKey 0 counts its items", est == len(items), f"{est} vs {len(items)}")
            if ev:
                fetched = client.fetch_item(cal.id, ev.server_id)
                check("ItemOperations Fetch of the event", named(fetched.fields).get("Calendar.Subject") == "Python event", fetched.fields)
            # a change over CalDAV wakes a Ping on the calendar
            put(f"/calendars/{USER}/Calendar/py-event2.ics", vcal("BEGIN:VEVENT", "UID:py-event-2", "DTSTAMP:20261201T000000Z", "DTSTART:20270108T130000Z", "DTEND:20270108T140000Z", "SUMMARY:Python event 2", "END:VEVENT"), "text/calendar")
            t0 = time.monotonic()
            ping = client.ping([cal.id], folder_class="Calendar", heartbeat=60, timeout=20)
            check("Ping on the calendar answers Status 2 for a CalDAV change", ping.status == "2", f"{ping} after {time.monotonic() - t0:.1f}s")
            after = client.sync_folder(cal.id, sync_key=key)
            check("Sync Calendar: the CalDAV change arrives", any(named(i.fields).get("Calendar.Subject") == "Python event 2" for i in after.added), [named(i.fields).get("Calendar.Subject") for i in after.added])

        if con:
            items, _, _ = items_of(client, con.id)
            c = next((i for i in items if i.fields.get("Contacts.FileAs") or i.fields.get("Contacts.FirstName") == "Pia"), None)
            check("Sync Contacts: the contact's names, email and mobile", c and c.fields.get("Contacts.FirstName") == "Pia" and c.fields.get("Contacts.LastName") == "Python" and "pia@example.org" in (c.fields.get("Contacts.Email1Address") or "") and "0400" in (c.fields.get("Contacts.MobilePhoneNumber") or ""), c and c.fields)

        if tsk:
            items, _, _ = items_of(client, tsk.id)
            t = next((i for i in items if i.fields.get("Tasks.Subject") == "Python task"), None)
            check("Sync Tasks: the task with its due date", t and str(t.fields.get("Tasks.DueDate", "")).startswith("2027-01-15"), t and t.fields)

        # an invitation from bob arrives in alice's Inbox as a meeting request
        inbox = next((f for f in folders if int(f.type) == 2), None)
        if inbox:
            _, ikey, _ = items_of(client, inbox.id)
            requests.request("PROPFIND", f"{DAV}/calendars/{BOB}/", headers={"depth": "1"}, auth=(BOB, PASSWORD), timeout=30)
            r = requests.put(
                f"{DAV}/calendars/{BOB}/Calendar/py-invite.ics",
                data=vcal("BEGIN:VEVENT", "UID:py-invite-1", "DTSTAMP:20261201T000000Z", "DTSTART:20270210T100000Z", "DTEND:20270210T110000Z",
                          "SUMMARY:Python invitation", f"ORGANIZER;CN=Bob Organizer:mailto:{BOB}", f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{USER}", "END:VEVENT").encode(),
                headers={"content-type": "text/calendar"}, auth=(BOB, PASSWORD), timeout=30,
            )
            check("CalDAV: bob's invitation stored", r.status_code < 300, r.status_code)
            req = None
            for _ in range(25):
                got = client.sync_folder(inbox.id, sync_key=ikey, window_size=50)
                ikey = got.sync_key
                req = next((i for i in got.added if "Python invitation" in (i.fields.get("Email.Subject") or "")), None)
                if req:
                    break
                time.sleep(0.4)
            check("Inbox: the invitation arrives as IPM.Schedule.Meeting.Request", req and req.fields.get("Email.MessageClass") == "IPM.Schedule.Meeting.Request", req and req.fields)
            if req:
                fetched = client.fetch_item(inbox.id, req.server_id)
                names = [a.display_name for a in fetched.attachments]
                check("Inbox: its calendar attachment is named *.ics", any((n or "").lower().endswith(".ics") for n in names), names)

        gal = client.search_gal("Bob")
        b = next((g for g in gal if (g.email_address or "").lower() == BOB), None)
        check("GAL Search: Bob with first and last name", b and b.first_name == "Bob" and b.last_name == "Organizer", gal)
        rec = client.resolve_recipients(BOB)
        check("ResolveRecipients: Bob", any((r.email_address or "").lower() == BOB for r in rec), rec)

    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the run goes on to the count; the error is a failed check
        check("groupware checks", False, repr(e))
        print(f"{passed} passed, {failed} failed")
        sys.exit(1)
