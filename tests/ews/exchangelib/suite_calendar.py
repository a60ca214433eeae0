#!/usr/bin/python3
"""exchangelib against the EWS calendar (helper F's area): recurring items
with a modified and a deleted occurrence through CalendarView and
OccurrenceItemId, time zones, all-day events, meeting invitations answered
with accept/decline/tentatively_accept and cancelled, and free/busy.
Run by tests/ews/calendar-exchangelib.test.ts; prints PASS/FAIL per scenario."""
import datetime

from exchangelib import CalendarItem, EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY
from exchangelib.items.calendar_item import MeetingCancellation, MeetingRequest
from exchangelib.recurrence import DailyPattern, Recurrence, WeeklyPattern
from exchangelib.fields import MONDAY

from suite_lib import USER2, account, alice, bob, check, eq, run_all, scenario, utc, wait_for

UTC = EWSTimeZone("UTC")
BERLIN = EWSTimeZone("Europe/Berlin")


@scenario("cal_weekly_recurrence")
def _():
    a = alice()
    start = utc(2027, 4, 5, 9, 0)  # a Monday
    master = CalendarItem(account=a, folder=a.calendar, subject="F weekly", start=start, end=start + datetime.timedelta(minutes=30),
                          recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[MONDAY]), start=start.date(), number=5))
    master.save()
    master = a.calendar.get(id=master.id)
    eq(master.type, "RecurringMaster", "master type")
    check(isinstance(master.recurrence.pattern, WeeklyPattern), f"pattern {master.recurrence.pattern!r}")
    eq(master.recurrence.boundary.number, 5, "number of occurrences")
    check(master.uid, "the master has a UID")
    window = (utc(2027, 4, 1), utc(2027, 6, 1))
    occ = [o for o in a.calendar.view(*window) if o.subject == "F weekly"]
    eq(len(occ), 5, "occurrences in the view")
    eq([o.type for o in occ], ["Occurrence"] * 5, "occurrence types")
    eq(occ[1].start, utc(2027, 4, 12, 9, 0), "second occurrence start")
    # Modify the second one by OccurrenceItemId (InstanceIndex 2), delete the third by its view id.
    second = master.occurrence(2)
    second.refresh()
    eq(second.start, utc(2027, 4, 12, 9, 0), "occurrence(2) start")
    second.subject = "F weekly (moved)"
    second.start = utc(2027, 4, 12, 11, 0)
    second.end = utc(2027, 4, 12, 11, 30)
    second.save(update_fields=["subject", "start", "end"])
    occ[2].delete()
    occ = [o for o in a.calendar.view(*window) if o.subject.startswith("F weekly")]
    eq(len(occ), 4, "occurrences after one was deleted")
    eq([o.type for o in occ], ["Occurrence", "Exception", "Occurrence", "Occurrence"], "types after the changes")
    eq(occ[1].start, utc(2027, 4, 12, 11, 0), "the exception's new start")
    master = a.calendar.get(id=master.id)
    eq(len(master.modified_occurrences or []), 1, "modified occurrences")
    eq(len(master.deleted_occurrences or []), 1, "deleted occurrences")
    eq(master.deleted_occurrences[0].start, utc(2027, 4, 19, 9, 0), "the deleted occurrence")
    eq(master.last_occurrence.start, utc(2027, 5, 3, 9, 0), "last occurrence")
    # The whole series goes.
    master.delete()
    eq([o for o in a.calendar.view(*window) if o.subject.startswith("F weekly")], [], "nothing left after deleting the series")


@scenario("cal_daily_until")
def _():
    a = alice()
    start = utc(2027, 5, 10, 7, 0)
    item = CalendarItem(account=a, folder=a.calendar, subject="F daily", start=start, end=start + datetime.timedelta(minutes=15),
                        recurrence=Recurrence(pattern=DailyPattern(interval=2), start=start.date(), end=EWSDate(2027, 5, 18)))
    item.save()
    occ = [o for o in a.calendar.view(utc(2027, 5, 1), utc(2027, 6, 1)) if o.subject == "F daily"]
    eq([o.start.day for o in occ], [10, 12, 14, 16, 18], "every other day up to the end date")
    got = a.calendar.get(id=item.id)
    eq(got.recurrence.boundary.end, EWSDate(2027, 5, 18), "end date")


@scenario("cal_timezone_and_all_day")
def _():
    a = alice()
    start = EWSDateTime(2027, 1, 5, 10, 0, tzinfo=BERLIN)
    item = CalendarItem(account=a, folder=a.calendar, subject="F Berlin", start=start, end=start + datetime.timedelta(hours=1))
    item.save()
    got = a.calendar.get(id=item.id)
    eq(got.start, start, "start (as an instant)")
    eq(got.start.astimezone(UTC), utc(2027, 1, 5, 9, 0), "start in UTC")
    eq(str(got._start_timezone), "Europe/Berlin", "start time zone")
    day = CalendarItem(account=a, folder=a.calendar, subject="F holiday", start=EWSDate(2027, 3, 3), end=EWSDate(2027, 3, 5), is_all_day=True)
    day.save()
    got = a.calendar.get(id=day.id)
    eq(got.is_all_day, True, "is_all_day")
    eq((got.start, got.end), (EWSDate(2027, 3, 3), EWSDate(2027, 3, 5)), "all-day dates")


def find_in_inbox(acc, cls, subject):
    acc.inbox.refresh()
    for it in acc.inbox.filter(subject__contains=subject):
        if isinstance(it, cls):
            return it
    return None


@scenario("cal_meeting_accept_decline_cancel")
def _():
    a, b = alice(), bob()
    start = utc(2027, 2, 2, 13, 0)
    item = CalendarItem(account=a, folder=a.calendar, subject="F review", start=start, end=start + datetime.timedelta(hours=1),
                        required_attendees=[USER2], location="Room 3")
    item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    req = wait_for(lambda: find_in_inbox(b, MeetingRequest, "F review"), "the meeting request in bob's inbox")
    eq(req.start, start, "request start")
    eq(req.location, "Room 3", "request location")
    check(req.associated_calendar_item_id is not None, "request names bob's calendar item")
    req.tentatively_accept()

    def answered(want):
        def f():
            it = a.calendar.get(id=item.id)
            return any(x.mailbox.email_address == USER2 and x.response_type == want for x in (it.required_attendees or []))
        return f

    wait_for(answered("Tentative"), "bob's Tentative on alice's item")
    mine = b.calendar.get(id=req.associated_calendar_item_id.id)
    mine.accept(body="I will be there.")
    wait_for(answered("Accept"), "bob's Accept on alice's item")
    eq(b.calendar.get(id=req.associated_calendar_item_id.id).my_response_type, "Accept", "bob's own response type")
    # A second meeting that bob declines.
    other = CalendarItem(account=a, folder=a.calendar, subject="F optional", start=start + datetime.timedelta(days=1),
                         end=start + datetime.timedelta(days=1, hours=1), required_attendees=[USER2])
    other.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    req2 = wait_for(lambda: find_in_inbox(b, MeetingRequest, "F optional"), "the second request")
    req2.decline()

    def declined():
        it = a.calendar.get(id=other.id)
        return any(x.mailbox.email_address == USER2 and x.response_type == "Decline" for x in (it.required_attendees or []))

    wait_for(declined, "bob's Decline")
    # Alice cancels the first one: bob gets a MeetingCancellation.
    a.calendar.get(id=item.id).cancel()
    wait_for(lambda: find_in_inbox(b, MeetingCancellation, "F review"), "the cancellation in bob's inbox")


@scenario("cal_free_busy")
def _():
    a, b = alice(), bob()
    start = utc(2027, 6, 7, 8, 0)
    CalendarItem(account=b, folder=b.calendar, subject="F busy", start=start, end=start + datetime.timedelta(hours=2), legacy_free_busy_status="Busy").save()
    views = list(a.protocol.get_free_busy_info(accounts=[(a, "Required", False), (b, "Required", False)], start=utc(2027, 6, 7), end=utc(2027, 6, 8), merged_free_busy_interval=60))
    eq(len(views), 2, "one view per mailbox")
    bv = views[1]
    check(bv.merged and bv.merged[8:10] == "22", f"bob busy 08-10 in the merged digits: {bv.merged!r}")
    events = bv.calendar_events or []
    check(any(e.busy_type == "Busy" for e in events), f"bob's busy event: {events!r}")


if __name__ == "__main__":
    run_all()
