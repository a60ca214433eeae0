"""
exchangelib end to end, part 2: calendar items (single, recurring with a
modified and a deleted occurrence, CalendarView), a meeting invitation
accepted by the attendee, contacts, tasks, ResolveNames, free/busy
(GetUserAvailability), out-of-office, streaming and pull notifications.
Cross-checks: CalDAV (python3-caldav) sees the events EWS made, SMTP mail
raises the notification events, the OOF reply arrives. Run by
tests/ews/exchangelib-groupware.test.ts.
"""
import datetime
import threading
from decimal import Decimal
import time
import uuid

from suite_lib import (
    EWS_PORT, HOST, OUTSIDE, PASS1, USER1, USER2, account, alice, bob, check, eq, run_all, scenario, smtp_send, tag, utc, wait_for,
)
from exchangelib import (
    UTC, Attendee, CalendarItem, Contact, EWSDate, EWSDateTime, EWSTimeZone, Mailbox, Message, OofSettings, Task,
)
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.recurrence import DailyPattern, Recurrence, WeeklyPattern
from exchangelib.items.calendar_item import MeetingRequest, MeetingResponse


# A fixed week in the future, far from "now", so the test never depends on the clock.
BASE = datetime.date(2027, 3, 1)  # a Monday


def caldav_events(user, password, start, end):
    """Summaries of the events CalDAV shows in the user's calendars between start and end (expanded)."""
    import caldav
    import urllib3

    urllib3.disable_warnings()
    client = caldav.DAVClient(url=f"https://{HOST}:{EWS_PORT}/dav/", username=user, password=password, ssl_verify_cert=False)
    cal = client.calendar(url=f"https://{HOST}:{EWS_PORT}/dav/calendars/{user}/Calendar/")
    return [str(v.get("SUMMARY")) for e in cal.search(start=start, end=end, event=True, expand=True) for v in e.icalendar_instance.walk("VEVENT")]


# --- calendar --------------------------------------------------------------------------------------


@scenario("calendar_item")
def _():
    a = alice()
    subject = tag("Dentist")
    start = utc(BASE.year, BASE.month, BASE.day, 9, 0)
    item = CalendarItem(account=a, folder=a.calendar, subject=subject, start=start, end=start + datetime.timedelta(hours=1),
                        location="Main Street 5", body="Bring the card.", legacy_free_busy_status="Busy")
    item.save()
    check(item.id, "saved item has an id")
    got = a.calendar.get(id=item.id)
    check(got.uid, "the item has a UID")
    eq(got.subject, subject, "subject")
    eq(got.start, start, "start")
    eq(got.end, start + datetime.timedelta(hours=1), "end")
    eq(got.location, "Main Street 5", "location")
    check("Bring the card." in str(got.body), "body")
    got.location = "Main Street 7"
    got.save(update_fields=["location"])
    eq(a.calendar.get(id=item.id).location, "Main Street 7", "location after UpdateItem")
    summaries = caldav_events(USER1, PASS1, datetime.datetime(2027, 3, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2027, 3, 2, tzinfo=datetime.timezone.utc))
    check(subject in summaries, f"CalDAV does not show the EWS event: {summaries}")
    # An all-day event.
    day = CalendarItem(account=a, folder=a.calendar, subject=tag("Holiday"), start=EWSDate(2027, 3, 3), end=EWSDate(2027, 3, 4), is_all_day=True)
    day.save()
    got_day = a.calendar.get(id=day.id)
    eq(got_day.is_all_day, True, "is_all_day")


@scenario("calendar_recurrence")
def _():
    a = alice()
    subject = tag("Weekly sync")
    start = utc(BASE.year, BASE.month, BASE.day, 14, 0)
    master = CalendarItem(account=a, folder=a.calendar, subject=subject, start=start, end=start + datetime.timedelta(minutes=30),
                          recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=["Monday"]), start=BASE, number=5))
    master.save()
    master = a.calendar.get(id=master.id)
    eq(master.type, "RecurringMaster", "master type")
    check(master.recurrence is not None and master.recurrence.boundary.number == 5, f"recurrence read back: {master.recurrence}")
    window = (utc(2027, 2, 28), utc(2027, 4, 5))
    occ = [o for o in a.calendar.view(*window) if o.subject == subject]
    eq(len(occ), 5, "occurrences in CalendarView")
    eq([o.start for o in occ], [start + datetime.timedelta(weeks=i) for i in range(5)], "occurrence starts")
    # Modify the third occurrence, delete the fourth.
    third = master.occurrence(index=3)
    third.refresh()
    third.start = third.start + datetime.timedelta(hours=1)
    third.end = third.end + datetime.timedelta(hours=1)
    third.subject = subject + " (moved)"
    third.save(update_fields=["start", "end", "subject"])
    fourth = master.occurrence(index=4)
    fourth.refresh()
    fourth.delete()
    master = a.calendar.get(id=master.id)
    eq(len(master.modified_occurrences or []), 1, "modified occurrences")
    eq(len(master.deleted_occurrences or []), 1, "deleted occurrences")
    occ = [o for o in a.calendar.view(*window) if o.subject.startswith(subject)]
    eq(len(occ), 4, "occurrences after one deletion")
    moved = [o for o in occ if o.subject.endswith("(moved)")]
    eq(len(moved), 1, "the modified occurrence")
    eq(moved[0].start, start + datetime.timedelta(weeks=2, hours=1), "the modified occurrence's start")
    eq(moved[0].type, "Exception", "the modified occurrence's type")
    summaries = caldav_events(USER1, PASS1, datetime.datetime(2027, 2, 28, tzinfo=datetime.timezone.utc), datetime.datetime(2027, 4, 5, tzinfo=datetime.timezone.utc))
    eq(len([s for s in summaries if s.startswith(subject)]), 4, f"CalDAV expanded occurrences {summaries}")
    # A daily series with an end date.
    daily = CalendarItem(account=a, folder=a.calendar, subject=tag("Standup"), start=utc(2027, 3, 8, 8, 0), end=utc(2027, 3, 8, 8, 15),
                         recurrence=Recurrence(pattern=DailyPattern(interval=1), start=datetime.date(2027, 3, 8), end=datetime.date(2027, 3, 12)))
    daily.save()
    eq(len([o for o in a.calendar.view(utc(2027, 3, 8), utc(2027, 3, 15)) if o.subject == daily.subject]), 5, "daily occurrences")


@scenario("meeting_invitation_accept")
def _():
    a, b = alice(), bob()
    subject = tag("Budget review")
    start = utc(2027, 3, 2, 10, 0)
    item = CalendarItem(account=a, folder=a.calendar, subject=subject, start=start, end=start + datetime.timedelta(hours=1),
                        required_attendees=[Attendee(mailbox=Mailbox(email_address=USER2), response_type="Unknown")])
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    # The invitation's subject is the event's with the scheduling engine's words around it.
    req = wait_for(lambda: next((m for m in b.inbox.filter(subject__contains=subject) if isinstance(m, MeetingRequest)), None), "the meeting request in bob's inbox")
    check(req.start == start, f"request's start {req.start}")
    req.accept(body="I will be there.")
    # Bob's calendar has the meeting; Alice gets the response and her attendee shows Accept.
    wait_for(lambda: list(b.calendar.filter(subject__contains=subject)), "the meeting in bob's calendar")
    wait_for(lambda: next((m for m in a.inbox.filter(subject__contains=subject) if isinstance(m, MeetingResponse)), None), "the response in alice's inbox")

    def accepted():
        it = a.calendar.get(id=item.id)
        return any(x.mailbox.email_address.lower() == USER2.lower() and x.response_type == "Accept" for x in (it.required_attendees or []))

    wait_for(accepted, "bob's Accept on alice's item")
    # The organiser cancels: bob gets the cancellation.
    a.calendar.get(id=item.id).cancel(body="Cancelled, sorry.")
    wait_for(lambda: [m for m in b.inbox.filter(subject__contains=subject) if m.item_class and "Canceled" in m.item_class], "the cancellation at bob")


# --- contacts, tasks, people -----------------------------------------------------------------------


@scenario("contacts")
def _():
    a = alice()
    surname = "Evans" + uuid.uuid4().hex[:5]
    c = Contact(account=a, folder=a.contacts, given_name="Erin", surname=surname, display_name=f"Erin {surname}", company_name="Acme Ltd",
                job_title="Engineer",
                email_addresses=[EmailAddress(email="erin@acme.example", label="EmailAddress1")],
                phone_numbers=[PhoneNumber(label="MobilePhone", phone_number="+44 7700 900123"), PhoneNumber(label="BusinessPhone", phone_number="+44 20 7946 0000")],
                physical_addresses=[PhysicalAddress(label="Business", street="1 High St", city="London", zipcode="N1 1AA", country="United Kingdom")],
                birthday=EWSDate(1990, 5, 17))
    c.save()
    got = a.contacts.get(id=c.id)
    eq(got.display_name, f"Erin {surname}", "display name")
    eq(got.company_name, "Acme Ltd", "company")
    eq([e.email for e in got.email_addresses], ["erin@acme.example"], "email addresses")
    eq(sorted((p.label, p.phone_number) for p in got.phone_numbers), [("BusinessPhone", "+44 20 7946 0000"), ("MobilePhone", "+44 7700 900123")], "phone numbers")
    eq(got.physical_addresses[0].city, "London", "address city")
    eq(got.birthday, EWSDate(1990, 5, 17), "birthday")
    eq([x.surname for x in a.contacts.filter(surname=surname)], [surname], "filter by surname")
    got.job_title = "Lead engineer"
    got.email_addresses = [EmailAddress(email="erin@acme.example", label="EmailAddress1"), EmailAddress(email="erin.home@example.net", label="EmailAddress2")]
    got.save(update_fields=["job_title", "email_addresses"])
    again = a.contacts.get(id=c.id)
    eq(again.job_title, "Lead engineer", "job title after UpdateItem")
    eq(sorted(e.email for e in again.email_addresses), ["erin.home@example.net", "erin@acme.example"], "emails after UpdateItem")
    # ResolveNames finds the contact and the directory user.
    res = a.protocol.resolve_names([surname], return_full_contact_data=False)
    check(any(getattr(r, "email_address", None) == "erin@acme.example" for r in res), f"ResolveNames of the contact: {res}")
    again.delete()
    check(not list(a.contacts.filter(surname=surname)), "contact still listed after DeleteItem")


@scenario("resolve_names_directory")
def _():
    a = alice()
    res = a.protocol.resolve_names(["bob"])
    check(any(getattr(r, "email_address", "").lower() == USER2.lower() for r in res), f"ResolveNames 'bob': {res}")
    res = a.protocol.resolve_names([USER2], return_full_contact_data=True)
    check(res, "ResolveNames of a full address")


@scenario("tasks")
def _():
    a = alice()
    subject = tag("File the tax return")
    t = Task(account=a, folder=a.tasks, subject=subject, due_date=EWSDate(2027, 4, 30), start_date=EWSDate(2027, 4, 1), status="NotStarted", body="Forms in the drawer.")
    t.save()
    got = a.tasks.get(id=t.id)
    eq(got.subject, subject, "subject")
    eq(got.due_date, EWSDate(2027, 4, 30), "due date")
    eq(got.status, "NotStarted", "status")
    got.status = "InProgress"
    got.percent_complete = Decimal(50)
    got.save(update_fields=["status", "percent_complete"])
    got = a.tasks.get(id=t.id)
    eq((got.status, float(got.percent_complete)), ("InProgress", 50.0), "status and percent after UpdateItem")
    got.status = "Completed"
    got.save(update_fields=["status"])
    got = a.tasks.get(id=t.id)
    eq(got.is_complete, True, "is_complete")
    check(got.complete_date is not None, "complete_date set")
    check(subject in [x.subject for x in a.tasks.all()], "FindItem over Tasks")
    got.delete()


# --- free/busy, OOF --------------------------------------------------------------------------------


@scenario("free_busy")
def _():
    a, b = alice(), bob()
    start = utc(2027, 3, 4, 13, 0)
    CalendarItem(account=b, folder=b.calendar, subject=tag("Busy block"), start=start, end=start + datetime.timedelta(hours=2), legacy_free_busy_status="Busy").save()
    tz = EWSTimeZone("UTC")
    views = list(a.protocol.get_free_busy_info(
        accounts=[(USER2, "Required", False)],
        start=EWSDateTime(2027, 3, 4, 0, 0, tzinfo=tz),
        end=EWSDateTime(2027, 3, 5, 0, 0, tzinfo=tz),
        merged_free_busy_interval=30,
        requested_view="DetailedMerged",
    ))
    eq(len(views), 1, "one FreeBusyView")
    v = views[0]
    events = v.calendar_events or []
    # Times come back in the time zone the request named (UTC here).
    check(any(e.busy_type == "Busy" and (e.start.hour, e.start.minute, e.end.hour, e.end.minute) == (13, 0, 15, 0) for e in events),
          f"busy 13:00-15:00 in {[(str(e.start), str(e.end), e.busy_type) for e in events]}")
    merged = v.merged or ""
    check(len(merged) == 48 and "2" in merged, f"merged free/busy string {merged!r}")


@scenario("out_of_office")
def _():
    a = alice()
    # Pillarbox's out-of-office has one text (the webmail's and ActiveSync's, answered by the vacation
    # rule): the internal reply is kept and read back as both replies.
    a.oof_settings = OofSettings(state=OofSettings.ENABLED, external_audience="All",
                                 internal_reply="I am away this week.", external_reply="I am away this week.")
    s = a.oof_settings
    eq(s.state, OofSettings.ENABLED, "state")
    check("I am away this week." in (s.internal_reply or ""), f"internal reply {s.internal_reply!r}")
    check("I am away this week." in (s.external_reply or ""), f"external reply {s.external_reply!r}")
    # The same vacation rule answers mail: bob writes, bob gets the auto-reply.
    subject = tag("Are you in?")
    Message(account=bob(), subject=subject, body="?", to_recipients=[Mailbox(email_address=USER1)]).send(save_copy=False)
    wait_for(lambda: [m for m in bob().inbox.all().order_by("-datetime_received")[:10] if m.sender and m.sender.email_address.lower() == USER1.lower()
                      and ("away" in str(m.text_body or m.body).lower())], "the out-of-office reply at bob", timeout=15)
    start = datetime.datetime.now(tz=datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=1)
    a.oof_settings = OofSettings(state=OofSettings.SCHEDULED, start=EWSDateTime.from_datetime(start), end=EWSDateTime.from_datetime(start + datetime.timedelta(days=7)),
                                 internal_reply="Scheduled away.", external_reply="Scheduled away.")
    s = a.oof_settings
    eq(s.state, OofSettings.SCHEDULED, "scheduled state")
    eq(s.start, EWSDateTime.from_datetime(start), "scheduled start")
    a.oof_settings = OofSettings(state=OofSettings.DISABLED)
    eq(a.oof_settings.state, OofSettings.DISABLED, "disabled")


# --- notifications ---------------------------------------------------------------------------------


@scenario("pull_notifications")
def _():
    a = alice()
    sub_id, watermark = a.inbox.subscribe_to_pull(event_types=("NewMailEvent", "CreatedEvent", "ModifiedEvent"), timeout=5)
    check(sub_id and watermark, "subscription id and watermark")
    subject = tag("Pull me")
    smtp_send(OUTSIDE, [USER1], subject, "body")
    wait_for(lambda: list(a.inbox.filter(subject=subject)), "delivery")
    seen = []

    def poll():
        nonlocal watermark
        # get_events yields one Notification per page until the server says there are no more.
        for n in a.inbox.get_events(sub_id, watermark):
            watermark = n.events[-1].watermark if n.events else watermark
            seen.extend(type(e).__name__ for e in n.events)
        return "NewMailEvent" in seen

    wait_for(poll, f"a NewMailEvent (got {seen})", timeout=10, interval=0.5)
    a.inbox.unsubscribe(sub_id)


@scenario("streaming_notifications")
def _():
    a = alice()
    sub_id = a.inbox.subscribe_to_streaming(event_types=("NewMailEvent", "CreatedEvent"))
    check(sub_id, "subscription id")
    subject = tag("Stream me")
    found = {}

    def listen():
        try:
            for n in a.inbox.get_streaming_events(sub_id, connection_timeout=1):
                names = [type(e).__name__ for e in n.events]
                found.setdefault("events", []).extend(names)
                if "NewMailEvent" in names:
                    found["ok"] = True
                    return
        except Exception as e:  # reported below
            found["error"] = repr(e)

    th = threading.Thread(target=listen, daemon=True)
    th.start()
    time.sleep(1.0)
    smtp_send(OUTSIDE, [USER1], subject, "body")
    th.join(15)
    check(found.get("ok"), f"no NewMailEvent on the stream: {found}")
    a.inbox.unsubscribe(sub_id)


if __name__ == "__main__":
    run_all()
