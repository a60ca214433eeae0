"""
exchangelib against Pillarbox's mail reading and the generic read/move item
operations (helper C's area): FindItem paging and ordering, filters (restrictions),
.only() shapes, counts, GetItem of bodies, attachments, MIME and headers, extended
properties, and move / copy / delete / soft delete / move to trash / junk, each
cross-checked over IMAP. Run by tests/ews/mail-read-exchangelib.test.ts; prints
"PASS name" / "FAIL name: reason" per scenario (suite_lib.run_all).
"""

from suite_lib import OUTSIDE, PASS1, USER1, alice, check, deliver, eq, Imap, run_all, scenario, tag
from exchangelib import ExtendedProperty, Folder, Message
from exchangelib.items import HARD_DELETE, SOFT_DELETE


class Origin(ExtendedProperty):
    property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
    property_name = "Pillarbox test origin"
    property_type = "String"


Message.register("pb_origin", Origin)


@scenario("order_slice_only")
def _():
    a = alice()
    box = Folder(parent=a.inbox, name=tag("Reading"))
    box.save()
    subjects = [tag(f"paged {i:02d}") for i in range(25)]
    with Imap(USER1, PASS1) as im:
        for i, s in enumerate(subjects):
            raw = f"From: dave@remote.example\r\nTo: {USER1}\r\nSubject: {s}\r\nDate: Mon, {1 + i:02d} Jan 2024 10:00:00 +0000\r\n\r\nbody {i}\r\n"
            typ, data = im.c.append(f'"INBOX/{box.name}"', "", f'"{1 + i:02d}-Jan-2024 10:00:00 +0000"', raw.encode())
            check(typ == "OK", f"IMAP APPEND: {data}")
    box.refresh()
    newest = list(box.all().order_by("-datetime_received")[:10])
    eq([m.subject for m in newest], subjects[::-1][:10], "newest ten")
    # exchangelib pages with IndexedPageItemView; a small page size makes it walk every page.
    qs = box.all().order_by("subject").only("subject")
    qs.page_size = 7
    walked = [m.subject for m in qs]
    eq(walked, sorted(subjects), "every page in subject order")
    only = list(box.all().only("subject", "is_read")[:3])
    check(all(m.subject and m.is_read is False for m in only), "only(subject, is_read)")
    check(all(m.body is None for m in only), "only() leaves the body out")
    eq(box.all().count(), 25, "count of the folder")
    eq(box.filter(subject__contains="paged 1").count(), 10, "filtered count")
    ids = [m.id for m in box.all().order_by("datetime_received")[20:25]]
    eq(len(ids), 5, "a slice at the end")


@scenario("filters")
def _():
    a = alice()
    s1 = tag("Quarterly report")
    deliver(s1, sender="boss@remote.example")
    s2 = tag("lunch plans")
    deliver(s2)
    eq([m.subject for m in a.inbox.filter(subject__contains=s1.split()[-1])], [s1], "subject__contains")
    eq([m.subject for m in a.inbox.filter(subject__icontains="QUARTERLY", subject__contains=s1[-8:])], [s1], "icontains + contains")
    got = {m.subject for m in a.inbox.filter(subject__startswith="lunch plans")}
    check(s2 in got, "startswith")
    check(s1 not in {m.subject for m in a.inbox.exclude(subject__contains=s1[-8:])}, "exclude")
    unread = {m.subject for m in a.inbox.filter(is_read=False)}
    check({s1, s2} <= unread, "is_read=False")
    from_boss = {m.subject for m in a.inbox.filter(sender="boss@remote.example")}
    check(s1 in from_boss and s2 not in from_boss, f"sender filter: {from_boss}")
    from exchangelib import Q

    either = {m.subject for m in a.inbox.filter(Q(subject=s1) | Q(subject=s2))}
    eq(either, {s1, s2}, "Q | Q")


@scenario("get_item_bodies_attachments")
def _():
    a = alice()
    s = tag("with attachment")
    data = bytes(range(256)) * 4
    m = deliver(s, body="The body text.\r\n", attachments=[("blob.bin", data, "application/octet-stream")])
    m = a.inbox.get(id=m.id)
    check("The body text." in m.text_body or "The body text." in str(m.body), f"body: {m.body!r}")
    eq(m.sender.email_address, OUTSIDE, "sender")
    eq([r.email_address for r in m.to_recipients], [USER1], "to")
    check(m.has_attachments, "has_attachments")
    names = [x.name for x in m.attachments]
    eq(names, ["blob.bin"], "attachment names")
    eq(m.attachments[0].size, len(data), "attachment size")
    check(m.mime_content and b"Subject: " + s.encode() in m.mime_content, "mime_content is the message")
    check(any(h.name.lower() == "subject" for h in m.headers), "headers")
    check(m.datetime_received is not None and m.datetime_sent is not None, "dates")
    check(m.conversation_id is not None, "conversation_id")


@scenario("read_state_and_extended")
def _():
    a = alice()
    s = tag("read state")
    m = deliver(s)
    eq(m.is_read, False, "unread on arrival")
    with Imap(USER1, PASS1) as im:
        im.select("INBOX", readonly=False)
        typ, data = im.c.uid("SEARCH", "SUBJECT", f'"{s}"')
        uid = data[0].split()[-1]
        typ, _ = im.c.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        check(typ == "OK", "IMAP STORE")
    m.refresh()
    eq(m.is_read, True, "IMAP \\Seen seen as is_read")
    m.pb_origin = "from the test"
    m.save(update_fields=["pb_origin"])
    again = a.inbox.get(id=m.id)
    eq(again.pb_origin, "from the test", "extended property round trip")
    eq([x.subject for x in a.inbox.filter(pb_origin="from the test")], [s], "filter on the extended property")


@scenario("move_copy_delete")
def _():
    a = alice()
    archive = Folder(parent=a.inbox, name=tag("Archive"))
    archive.save()
    s = tag("to move")
    m = deliver(s)
    old_id = m.id
    m.move(archive)
    eq([x.subject for x in archive.all()], [s], "moved")
    check(not list(a.inbox.filter(subject=s)), "not in the inbox any more")
    moved = archive.get(subject=s)
    eq(moved.id, old_id, "a move keeps the item id")
    copy = moved.copy(a.inbox)
    check(list(a.inbox.filter(subject=s)), "copied back")
    with Imap(USER1, PASS1) as im:
        check(any(subj == s for _, _, subj in im.messages("INBOX")), "copy seen over IMAP")
        check(any(subj == s for _, _, subj in im.messages(f"INBOX/{archive.name}")), "moved one seen over IMAP")
    inbox_copy = a.inbox.get(subject=s)
    inbox_copy.move_to_trash()
    check(list(a.trash.filter(subject=s)), "move_to_trash lands in Deleted Items")
    moved.soft_delete()
    check(not list(archive.filter(subject=s)), "soft_delete removes it from the folder")
    y = deliver(tag("soft in bulk"))
    a.bulk_delete(ids=[y], delete_type=SOFT_DELETE)
    check(not list(a.inbox.filter(subject=y.subject)), "bulk soft delete")
    a.trash.get(subject=s).delete()
    check(not list(a.trash.filter(subject=s)), "delete removes it")
    with Imap(USER1, PASS1) as im:
        check(not any(subj == s for _, _, subj in im.messages("Trash")), "deleted over IMAP too")
    x = deliver(tag("hard"))
    a.bulk_delete(ids=[x], delete_type=HARD_DELETE)
    check(not list(a.inbox.filter(subject=x.subject)), "bulk hard delete")
    del copy


@scenario("mark_as_junk")
def _():
    a = alice()
    s = tag("junk me")
    m = deliver(s, sender="pest@spam.example")
    m.mark_as_junk(is_junk=True, move_item=True)
    check(list(a.junk.filter(subject=s)), "in Junk")
    j = a.junk.get(subject=s)
    j.mark_as_junk(is_junk=False, move_item=True)
    check(list(a.inbox.filter(subject=s)), "back in the inbox")


if __name__ == "__main__":
    run_all()
