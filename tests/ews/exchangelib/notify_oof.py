"""
exchangelib against Pillarbox's notifications and out-of-office (helper G's area):
pull subscriptions (subscribe_to_pull + get_events, watermarks carried over), streaming
subscriptions (subscribe_to_streaming + get_streaming_events), unsubscribe, and
OofSettings written and read back (Enabled, Scheduled, Disabled). Run by
tests/ews/notifications-exchangelib.test.ts.
"""
import datetime

from suite_lib import USER1, USER2, alice, check, eq, run_all, scenario, smtp_send, tag, wait_for
from exchangelib import EWSDateTime, OofSettings
from exchangelib.properties import CreatedEvent, NewMailEvent, StatusEvent


@scenario("pull_subscription")
def _():
    a = alice()
    sub_id, watermark = a.inbox.subscribe_to_pull(event_types=("NewMailEvent", "CreatedEvent"), timeout=5)
    check(sub_id and watermark, "no subscription id or watermark")
    # Nothing happened yet: a status event only.
    first = list(a.inbox.get_events(sub_id, watermark))
    eq(len(first), 1, "one notification")
    check(all(isinstance(e, StatusEvent) for e in first[0].events), f"status only: {first[0].events}")
    subject = tag("pull")
    smtp_send(USER2, [USER1], subject)

    seen = []
    state = {"w": watermark}

    def poll():
        for n in a.inbox.get_events(sub_id, state["w"]):
            for e in n.events:
                state["w"] = e.watermark or state["w"]
                if not isinstance(e, StatusEvent):
                    seen.append(e)
        return any(isinstance(e, NewMailEvent) for e in seen) and any(isinstance(e, CreatedEvent) for e in seen)

    wait_for(poll, "NewMailEvent and CreatedEvent")
    created = next(e for e in seen if isinstance(e, CreatedEvent))
    check(created.item_id is not None and created.item_id.id, "created event without an item id")
    # The event's item id is one GetItem answers: the message just delivered.
    item = a.inbox.get(id=created.item_id.id)
    eq(item.subject, subject, "the created item")
    eq(created.parent_folder_id.id, a.inbox.id, "parent folder")
    a.inbox.unsubscribe(sub_id)


@scenario("streaming_subscription")
def _():
    a = alice()
    sub_id = a.inbox.subscribe_to_streaming(event_types=("NewMailEvent",))
    check(sub_id, "no subscription id")
    subject = tag("stream")
    smtp_send(USER2, [USER1], subject)
    # The delivery happened before the connection: its event waits on the subscription and comes first.
    got = []
    for n in a.inbox.get_streaming_events(sub_id, connection_timeout=1, max_notifications_returned=1):
        got.extend(n.events)
    check(any(isinstance(e, NewMailEvent) for e in got), f"no NewMailEvent in {got}")
    a.inbox.unsubscribe(sub_id)


@scenario("oof_enabled")
def _():
    a = alice()
    a.oof_settings = OofSettings(state=OofSettings.ENABLED, external_audience="All", internal_reply="Away until Monday.", external_reply="Away until Monday.")
    s = a.oof_settings
    eq(s.state, OofSettings.ENABLED, "state")
    eq(s.internal_reply, "Away until Monday.", "internal reply")
    eq(s.external_reply, "Away until Monday.", "external reply")


@scenario("oof_scheduled")
def _():
    a = alice()
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=1)
    end = start + datetime.timedelta(days=7)
    a.oof_settings = OofSettings(
        state=OofSettings.SCHEDULED,
        start=EWSDateTime.from_datetime(start),
        end=EWSDateTime.from_datetime(end),
        internal_reply="On holiday.",
        external_reply="On holiday.",
    )
    s = a.oof_settings
    eq(s.state, OofSettings.SCHEDULED, "state")
    eq(s.start, EWSDateTime.from_datetime(start), "start")
    eq(s.end, EWSDateTime.from_datetime(end), "end")
    eq(s.internal_reply, "On holiday.", "reply")


@scenario("oof_disabled")
def _():
    a = alice()
    a.oof_settings = OofSettings(state=OofSettings.DISABLED)
    eq(a.oof_settings.state, OofSettings.DISABLED, "state")


if __name__ == "__main__":
    run_all()
