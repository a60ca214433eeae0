"""
exchangelib end to end for mail writing (CreateItem, UpdateItem, SendItem,
CreateAttachment, DeleteAttachment, GetAttachment and the reply/forward
response objects), as a script writes it: drafts saved, edited with a full
item.save() and sent; messages sent and sent-and-saved; attachments attached
to a saved draft and detached; read state; reply, reply-all and forward.
The other account reads what was sent. Run by tests/ews/items-write-exchangelib.test.ts.
"""

from suite_lib import USER1, USER2, account, alice, bob, check, eq, find_one, run_all, scenario, tag
from exchangelib import FileAttachment, HTMLBody, Mailbox, Message

EVERY_BYTE = bytes(range(256)) * 4


@scenario("draft_save_edit_keeps_id")
def _():
    a = alice()
    subject = tag("Draft")
    d = Message(account=a, folder=a.drafts, subject=subject, body=HTMLBody("<p>first <b>version</b></p>"), to_recipients=[Mailbox(email_address=USER2)])
    d.save()
    check(d.id, "no ItemId after save")
    first_id = d.id
    got = a.drafts.get(id=d.id)
    eq(got.subject, subject, "subject read back")
    check(got.is_draft, "is_draft")
    check("version" in str(got.body), f"body read back: {got.body!r}")
    # A full save (every updatable field, as exchangelib sends it) of changed content: same ItemId (exchangelib checks it).
    # Recipients are sent only for an item exchangelib knows is a draft (is_draft read back), so edit the fetched one.
    got.subject = subject + " edited"
    got.body = HTMLBody("<p>second version</p>")
    got.cc_recipients = [Mailbox(email_address=USER1)]
    got.save()
    eq(got.id, first_id, "ItemId after editing the draft")
    got = a.drafts.get(id=d.id)
    eq(got.subject, subject + " edited", "edited subject")
    check("second version" in str(got.body), "edited body")
    eq([r.email_address.lower() for r in got.cc_recipients or []], [USER1.lower()], "edited Cc")
    # A save with nothing changed is accepted too.
    got.save()


@scenario("attach_detach")
def _():
    a = alice()
    subject = tag("Attach")
    d = Message(account=a, folder=a.drafts, subject=subject, body="text body", to_recipients=[Mailbox(email_address=USER2)])
    d.save()
    first_id = d.id
    att = FileAttachment(name="every-byte.bin", content=EVERY_BYTE)
    d.attach(att)
    check(att.attachment_id is not None, "attachment id after CreateAttachment")
    second = FileAttachment(name="note.txt", content=b"a note\r\n")
    d.attach(second)
    got = a.drafts.get(id=first_id)
    names = sorted(x.name for x in got.attachments)
    eq(names, ["every-byte.bin", "note.txt"], "attachments read back")
    content = next(x for x in got.attachments if x.name == "every-byte.bin").content
    eq(content, EVERY_BYTE, "attachment bytes (GetAttachment)")
    d.detach(att)
    got = a.drafts.get(id=first_id)
    eq([x.name for x in got.attachments], ["note.txt"], "attachments after DeleteAttachment")
    # The draft still sends by the id the client holds.
    got.send()
    m = find_one(bob().inbox, subject)
    eq([x.name for x in m.attachments], ["note.txt"], "the recipient's attachments")
    eq(m.attachments[0].content, b"a note\r\n", "the recipient's attachment bytes")


@scenario("send_and_send_and_save")
def _():
    a = alice()
    s1 = tag("Send only")
    Message(account=a, subject=s1, body="sent only", to_recipients=[Mailbox(email_address=USER2)]).send(save_copy=False)
    find_one(bob().inbox, s1)
    check(not list(a.sent.filter(subject=s1)), "a SendOnly message was saved in Sent")
    s2 = tag("Send and save")
    m = Message(account=a, folder=a.sent, subject=s2, body=HTMLBody("<p>saved</p>"), to_recipients=[Mailbox(email_address=USER2)], bcc_recipients=[Mailbox(email_address=USER1)])
    m.send_and_save()
    got = find_one(bob().inbox, s2)
    eq([r.email_address.lower() for r in got.bcc_recipients or []], [], "the recipient sees no Bcc")
    find_one(a.inbox, s2)  # the Bcc recipient got it
    saved = find_one(a.sent, s2)
    check(not saved.is_draft, "the sent copy is no draft")


@scenario("send_with_attachment")
def _():
    a = alice()
    subject = tag("With file")
    m = Message(account=a, subject=subject, body="see file", to_recipients=[Mailbox(email_address=USER2)])
    m.attach(FileAttachment(name="every-byte.bin", content=EVERY_BYTE))
    m.send()
    got = find_one(bob().inbox, subject)
    eq(len(got.attachments), 1, "attachments received")
    eq(got.attachments[0].content, EVERY_BYTE, "received attachment bytes")


@scenario("read_state_and_full_save_of_received_mail")
def _():
    a = alice()
    subject = tag("Read me")
    html = '<html><body><p style="color:red">mark <b>me</b> read</p><img src="https://example.net/x.png"><script>alert(1)</script></body></html>'
    Message(account=a, subject=subject, body=HTMLBody(html), to_recipients=[Mailbox(email_address=USER2)]).send()
    m = find_one(bob().inbox, subject)
    eq(m.is_read, False, "new mail is unread")
    m.is_read = True
    m.save(update_fields=["is_read"])
    eq(bob().inbox.get(id=m.id).is_read, True, "is_read after UpdateItem")
    # A full save of a received message (its content unchanged) is accepted.
    m2 = bob().inbox.get(id=m.id)
    m2.is_read = False
    m2.save()
    eq(bob().inbox.get(id=m.id).is_read, False, "is_read after a full save")


@scenario("reply_reply_all_forward")
def _():
    a = alice()
    subject = tag("Question")
    Message(account=a, subject=subject, body="What time is it?", to_recipients=[Mailbox(email_address=USER2)]).send()
    m = find_one(bob().inbox, subject)
    m.reply(subject="Re: " + subject, body="Noon.")
    r = find_one(a.inbox, "Re: " + subject)
    check("Noon." in str(r.body), f"reply body: {r.body!r}")
    check("What time is it?" in str(r.body), "the original is quoted in the reply")
    m.reply_all(subject="Re: all " + subject, body="Noon, everyone.")
    find_one(a.inbox, "Re: all " + subject)
    m.forward(subject="Fwd: " + subject, body="FYI", to_recipients=[Mailbox(email_address=USER1)])
    f = find_one(a.inbox, "Fwd: " + subject)
    check("What time is it?" in str(f.body), "the original is in the forward")


@scenario("draft_reply_saved")
def _():
    a = alice()
    subject = tag("Draft reply source")
    Message(account=a, subject=subject, body="please answer", to_recipients=[Mailbox(email_address=USER2)]).send()
    m = find_one(bob().inbox, subject)
    m.create_reply(subject="Re: " + subject, body="Draft answer").save(bob().drafts)
    d = find_one(bob().drafts, "Re: " + subject)
    check(d.is_draft, "the saved reply is a draft")
    eq([r.email_address.lower() for r in d.to_recipients or []], [USER1.lower()], "the draft reply's To")


if __name__ == "__main__":
    run_all()
