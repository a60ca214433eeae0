"""
DavMail (Debian's davmail, EWS mode) in front of Pillarbox: an IMAP client
(imaplib) and a CalDAV client (python3-caldav) talking through DavMail see
the same mail and events as the same clients talking to Pillarbox directly,
and mail sent through DavMail's SMTP arrives.
Run by tests/ews/davmail.test.ts, which starts Pillarbox and DavMail and sets
PB_DAVMAIL_IMAP_PORT / PB_DAVMAIL_CALDAV_PORT / PB_DAVMAIL_SMTP_PORT besides suite_lib's variables.
Prints "PASS name" / "FAIL name: reason" per scenario.
"""
import datetime
import email
import email.policy
import email.message
import imaplib
import os
import smtplib
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exchangelib"))

from suite_lib import EWS_PORT, HOST, PASS1, PASS2, USER1, USER2, Imap, check, eq, run_all, scenario, smtp_send, wait_for  # noqa: E402

import caldav  # noqa: E402
import urllib3  # noqa: E402

urllib3.disable_warnings()

DM_IMAP = int(os.environ.get("PB_DAVMAIL_IMAP_PORT", "0"))
DM_CALDAV = int(os.environ.get("PB_DAVMAIL_CALDAV_PORT", "0"))
DM_SMTP = int(os.environ.get("PB_DAVMAIL_SMTP_PORT", "0"))
KEY = uuid.uuid4().hex[:6]
SUBJECTS = [f"DavMail {KEY} {i}" for i in range(3)]


class DavImap(Imap):
    """The same imaplib session, through DavMail's IMAP port (plain text on loopback)."""

    def __init__(self, user, password):
        self.c = imaplib.IMAP4(HOST, DM_IMAP, timeout=30)
        self.c.login(user, password)


def snapshot(im):
    """{subject: (sorted system flags, body text)} of INBOX's seeded messages."""
    out = {}
    for uid, flags, subject in im.messages("INBOX"):
        if subject not in SUBJECTS:
            continue
        msg = im.fetch_message("INBOX", subject)
        body = msg.get_body(preferencelist=("plain",)).get_content().strip()
        out[subject] = (sorted(f for f in flags if f in ("\\Seen", "\\Flagged", "\\Answered", "\\Deleted", "\\Draft")), body)
    return out


@scenario("seed_mail")
def _():
    for i, s in enumerate(SUBJECTS):
        smtp_send("dora@outside.example", [USER1], s, f"Body of message {i}.\r\nSecond line {KEY}.\r\n")
    with Imap(USER1, PASS1) as im:
        wait_for(lambda: len([1 for _, _, s in im.messages("INBOX") if s in SUBJECTS]) == 3, "three messages in INBOX")
        im.select("INBOX", readonly=False)
        uids = {s: u for u, _, s in im.messages("INBOX")}
        im.select("INBOX", readonly=False)
        im.c.uid("STORE", str(uids[SUBJECTS[0]]), "+FLAGS", "(\\Seen)")
        im.c.uid("STORE", str(uids[SUBJECTS[1]]), "+FLAGS", "(\\Flagged \\Seen)")


@scenario("imap_list_inbox")
def _():
    with DavImap(USER1, PASS1) as dm:
        names = [n.strip('"') for n in dm.folders()]
        check(any(n.upper() == "INBOX" for n in names), f"DavMail's LIST has no INBOX: {names}")
        for want in ("Sent", "Trash", "Drafts"):
            check(any(want.lower() in n.lower() for n in names), f"DavMail's LIST has no {want}: {names}")
        with Imap(USER1, PASS1) as direct:
            eq(dm.select("INBOX"), direct.select("INBOX"), "INBOX message count through DavMail vs direct")


@scenario("imap_same_messages")
def _():
    with Imap(USER1, PASS1) as direct:
        want = snapshot(direct)
    eq(sorted(want), sorted(SUBJECTS), "seeded messages over direct IMAP")
    with DavImap(USER1, PASS1) as dm:
        got = snapshot(dm)
    eq(got, want, "subjects, flags and bodies through DavMail")


@scenario("imap_flag_through_davmail")
def _():
    with DavImap(USER1, PASS1) as dm:
        dm.select("INBOX", readonly=False)
        uid = next(u for u, _, s in dm.messages("INBOX") if s == SUBJECTS[2])
        dm.select("INBOX", readonly=False)
        typ, data = dm.c.uid("STORE", str(uid), "+FLAGS", "(\\Flagged \\Seen)")
        check(typ == "OK", f"STORE through DavMail: {data}")
    with Imap(USER1, PASS1) as direct:
        flags = next(f for _, f, s in direct.messages("INBOX") if s == SUBJECTS[2])
        check("\\Flagged" in flags and "\\Seen" in flags, f"direct IMAP flags after DavMail's STORE: {flags}")


@scenario("smtp_send_through_davmail")
def _():
    # DavMail's SMTP turns the message into EWS CreateItem (SendAndSaveCopy); bob gets it, alice's Sent keeps it.
    subject = f"Sent through DavMail {KEY}"
    msg = email.message.EmailMessage()
    msg["From"] = USER1
    msg["To"] = USER2
    msg["Subject"] = subject
    msg["Message-ID"] = f"<davmail-smtp-{KEY}@pillarbox.test>"
    msg.set_content("Hello Bob, through DavMail.")
    with smtplib.SMTP(HOST, DM_SMTP, timeout=30) as s:
        s.login(USER1, PASS1)
        s.send_message(msg)
    with Imap(USER2, PASS2) as bob:
        got = wait_for(lambda: bob.fetch_message("INBOX", subject), "the message in bob's INBOX", timeout=15)
        check("Hello Bob, through DavMail." in got.get_body(preferencelist=("plain",)).get_content(), "body at bob")
        check(USER1.lower() in got["From"].lower(), f"From at bob: {got['From']}")
    with Imap(USER1, PASS1) as me:
        sent = next((n for n in me.folders() if n.lower() in ("sent", "sent items", "sent messages")), "Sent")
        wait_for(lambda: me.fetch_message(sent, subject), "the copy in alice's Sent", timeout=10)


def direct_calendar():
    client = caldav.DAVClient(url=f"https://{HOST}:{EWS_PORT}/dav/", username=USER1, password=PASS1, ssl_verify_cert=False)
    return caldav.Calendar(client=client, url=f"https://{HOST}:{EWS_PORT}/dav/calendars/{USER1}/Calendar/")


def davmail_calendar():
    client = caldav.DAVClient(url=f"http://{HOST}:{DM_CALDAV}/", username=USER1, password=PASS1)
    return caldav.Calendar(client=client, url=f"http://{HOST}:{DM_CALDAV}/users/{USER1}/calendar/")


def summaries(cal, day):
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    found = cal.search(start=start, end=start + datetime.timedelta(days=1), event=True)
    return sorted(str(v.get("SUMMARY")) for e in found for v in e.icalendar_instance.walk("VEVENT"))


def vevent(uid, summary, day, hour):
    s = datetime.datetime(day.year, day.month, day.day, hour, 0)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pillarbox tests//DavMail//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{s:%Y%m%dT%H%M%S}Z\r\nDTEND:{s + datetime.timedelta(hours=1):%Y%m%dT%H%M%S}Z\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


DAY = datetime.date(2027, 5, 11)


@scenario("caldav_event_made_direct")
def _():
    summary = f"Direct {KEY}"
    direct_calendar().save_event(vevent(f"direct-{KEY}@pillarbox.test", summary, DAY, 9))
    got = summaries(davmail_calendar(), DAY)
    check(summary in got, f"DavMail's CalDAV does not show the event made on Pillarbox: {got}")


@scenario("caldav_event_made_through_davmail")
def _():
    summary = f"Through DavMail {KEY}"
    davmail_calendar().save_event(vevent(f"davmail-{KEY}@pillarbox.test", summary, DAY, 14))
    got = summaries(direct_calendar(), DAY)
    check(summary in got, f"Pillarbox's CalDAV does not show the event made through DavMail: {got}")
    eq(sorted(summaries(davmail_calendar(), DAY)), got, "the day's events through DavMail and direct")


if __name__ == "__main__":
    run_all()
