"""
exchangelib end to end, part 1: connection (version guess, explicit versions,
autodiscover), the folder tree, mail (receive, send, attachments, drafts,
flags, moves, junk, MIME upload) and search/paging, each cross-checked over
IMAP or SMTP against the same server. Run by tests/ews/exchangelib.test.ts.
"""
import uuid

from suite_lib import (
    OUTSIDE, PASS1, PASS2, USER1, USER2, account, alice, bob, check, deliver, eq, find_one, Imap, run_all, scenario, tag, wait_for,
)
from exchangelib import (
    HTMLBody, ExtendedProperty, FileAttachment, Folder, Mailbox, Message, Q,
)
from exchangelib.version import EXCHANGE_2016


class FlagStatus(ExtendedProperty):
    """PidTagFlagStatus (MS-OXPROPS 2.695): 2 = flagged, 1 = complete; what IMAP shows as \\Flagged."""
    property_tag = 0x1090
    property_type = "Integer"


Message.register("flag_status", FlagStatus)


# --- connection ------------------------------------------------------------------------------------


@scenario("version_guess")
def _():
    # No version given: exchangelib asks with ConvertId and reads ServerVersionInfo from the header.
    a = account(USER1, PASS1)
    check(a.version.build is not None, "no build guessed")
    eq(a.version.build.major_version, 15, "major version")
    check(a.version.build >= EXCHANGE_2016, f"build {a.version.build} older than Exchange 2016")
    check(a.version.api_version.startswith("Exchange20") or a.version.api_version.startswith("V20"), f"api version {a.version.api_version}")
    a.inbox.refresh()


@scenario("explicit_versions")
def _():
    for api in ("Exchange2010_SP2", "Exchange2013", "Exchange2016"):
        a = account(USER1, PASS1, version=api)
        eq(a.inbox.name.lower(), "inbox", f"inbox name with {api}")
        check(a.inbox.total_count is not None, f"no total_count with {api}")


@scenario("autodiscover")
def _():
    a = account(USER1, PASS1, autodiscover=True)
    # The server names its own host in the EWS URL; common.py routes that name to the test server.
    check(str(a.protocol.service_endpoint).lower().endswith("/ews/exchange.asmx"), f"EWS URL from autodiscover: {a.protocol.service_endpoint}")
    eq(a.primary_smtp_address.lower(), USER1.lower(), "primary SMTP address")
    a.inbox.refresh()


# --- folders ---------------------------------------------------------------------------------------


@scenario("folder_tree")
def _():
    a = alice()
    walked = list(a.root.walk())
    ids = {f.id for f in walked}
    # The well-known folders resolve (DistinguishedFolderId) and are found again walking the tree (FindFolder Deep).
    for f in (a.inbox, a.sent, a.drafts, a.trash, a.junk, a.calendar, a.contacts, a.tasks):
        check(f.id in ids, f"{f.__class__.__name__} ({f.name}) not found by root.walk(): {sorted(x.name for x in walked)}")
    eq(a.inbox.name.lower(), "inbox", "inbox display name")
    eq(a.inbox.parent.id, a.msg_folder_root.id, "inbox's parent")
    check(a.inbox.total_count is not None and a.inbox.unread_count is not None, "inbox counts")


@scenario("folder_create_rename_delete")
def _():
    a = alice()
    name = tag("Projects")
    f = Folder(parent=a.inbox, name=name)
    f.save()
    sub = Folder(parent=f, name="Archive 2026")
    sub.save()
    a.inbox.refresh()
    children = {c.name for c in a.inbox.children}
    check(name in children, f"{name} not among inbox children {sorted(children)}")
    eq([c.name for c in f.children], ["Archive 2026"], "children of the new folder")
    with Imap(USER1, PASS1) as im:
        imap_names = im.folders()
        check(any(n.endswith(name) and n.lower().startswith("inbox") for n in imap_names), f"IMAP does not list {name}: {imap_names}")
    renamed = name + " renamed"
    f.name = renamed
    f.save()
    f2 = a.inbox / renamed
    eq(f2.id, f.id, "renamed folder id")
    with Imap(USER1, PASS1) as im:
        imap_names = im.folders()
        check(any(n.endswith(renamed) for n in imap_names), f"IMAP does not list the renamed folder: {imap_names}")
        check(not any(n.endswith(name) for n in imap_names), "IMAP still lists the old name")
    # A duplicate name is refused.
    try:
        Folder(parent=a.inbox, name=renamed).save()
        raise AssertionError("creating a duplicate folder did not fail")
    except AssertionError:
        raise
    except Exception as e:
        check("ErrorFolderExists" in type(e).__name__ or "exist" in str(e).lower(), f"duplicate folder: {e!r}")
    f.delete()
    a.inbox.refresh()
    check(renamed not in {c.name for c in a.inbox.children}, "deleted folder still listed")
    with Imap(USER1, PASS1) as im:
        check(not any(renamed in n for n in im.folders()), "IMAP still lists the deleted folder")


@scenario("folder_move_empty")
def _():
    a = alice()
    parent = Folder(parent=a.inbox, name=tag("Parent"))
    parent.save()
    child = Folder(parent=a.inbox, name=tag("Child"))
    child.save()
    child.move(parent)  # MoveFolder keeps the folder's id
    parent.refresh()
    eq([c.name for c in parent.children], [child.name], "children after MoveFolder")
    with Imap(USER1, PASS1) as im:
        path = next((n for n in im.folders() if n.endswith(child.name)), "")
        check(parent.name in path, f"IMAP: {child.name} is not under {parent.name}: {path!r}")
        for i in range(3):
            im.append(path, f"From: x@outside.example\r\nSubject: fill {i}\r\n\r\nbody\r\n".encode())
    child.refresh()
    eq(child.total_count, 3, "items before EmptyFolder")
    child.empty(delete_type="HardDelete")
    child.refresh()
    eq(child.total_count, 0, "items after EmptyFolder")
    with Imap(USER1, PASS1) as im:
        eq(im.messages(path), [], "IMAP: the emptied folder")
    parent.delete()


@scenario("sync_items_and_hierarchy")
def _():
    a = alice()
    f = Folder(parent=a.inbox, name=tag("Sync"))
    f.save()
    with Imap(USER1, PASS1) as im:
        path = next(n for n in im.folders() if n.endswith(f.name))
        for i in range(5):
            im.append(path, f"From: s@outside.example\r\nSubject: sync {i}\r\nMessage-ID: <sync{i}.{f.name.split()[-1]}@outside.example>\r\n\r\nbody\r\n".encode())
    # First sync in pages of 2 (SyncFolderItems until IncludesLastItemInRange).
    first = list(f.sync_items(max_changes_returned=2))
    eq(sorted(ct for ct, _ in first), ["create"] * 5, "first sync")
    eq(sorted(it.subject for _, it in first), [f"sync {i}" for i in range(5)], "first sync's subjects")
    check(f.item_sync_state, "a sync state after the first sync")
    # Changes made over IMAP: one new message, one read, one expunged.
    with Imap(USER1, PASS1) as im:
        im.append(path, b"From: s@outside.example\r\nSubject: sync new\r\n\r\nbody\r\n")
        uids = {s: u for u, _, s in im.messages(path)}
        im.select(path, readonly=False)
        im.c.uid("STORE", str(uids["sync 0"]), "+FLAGS", "(\\Seen)")
        im.c.uid("STORE", str(uids["sync 1"]), "+FLAGS", "(\\Deleted)")
        im.c.expunge()
    second = list(f.sync_items())
    kinds = sorted(ct for ct, _ in second)
    check("create" in kinds and "delete" in kinds and ("read_flag_change" in kinds or "update" in kinds), f"incremental sync: {kinds}")
    eq([it.subject for ct, it in second if ct == "create"], ["sync new"], "the new message")
    eq(list(f.sync_items()), [], "nothing left to sync")
    # The folder tree: a full hierarchy sync, then one new folder.
    root = a.msg_folder_root
    names = [x.name for ct, x in root.sync_hierarchy() if ct == "create"]
    check(f.name in names, f"SyncFolderHierarchy does not list {f.name}: {names}")
    sub = Folder(parent=f, name="Sub")
    sub.save()
    changes = [(ct, x.name) for ct, x in root.sync_hierarchy()]
    # (An update of the parent, whose child count changed, may come too.)
    check(("create", "Sub") in changes and all(ct != "delete" for ct, _ in changes), f"hierarchy changes after CreateFolder: {changes}")
    f.delete()


# --- mail ------------------------------------------------------------------------------------------


@scenario("receive_mail_over_smtp")
def _():
    a = alice()
    subject = tag("Quarterly figures")
    m = deliver(subject, "Revenue is up.\r\nSecond line.\r\n")
    eq(m.sender.email_address.lower(), OUTSIDE, "sender")
    eq([r.email_address.lower() for r in m.to_recipients], [USER1.lower()], "to")
    check("Revenue is up." in str(m.text_body or m.body), f"body: {m.body!r}")
    eq(m.is_read, False, "is_read")
    check(m.datetime_received is not None and m.size > 0, "received time and size")
    check(m.message_id and "@" in m.message_id, f"message_id {m.message_id!r}")
    check(m.mime_content and subject.encode() in m.mime_content, "MIME content carries the subject")
    with Imap(USER1, PASS1) as im:
        check(any(s == subject for _, _, s in im.messages("INBOX")), "IMAP INBOX does not show it")


@scenario("send_mail")
def _():
    a = alice()
    subject = tag("Lunch on Friday")
    Message(account=a, folder=a.sent, subject=subject, body="Shall we?", to_recipients=[Mailbox(email_address=USER2)]).send_and_save()
    got = find_one(bob().inbox, subject)
    eq(got.sender.email_address.lower(), USER1.lower(), "sender at bob")
    check("Shall we?" in str(got.text_body or got.body), "body at bob")
    find_one(a.sent, subject)
    with Imap(USER2, PASS2) as im:
        msg = wait_for(lambda: im.fetch_message("INBOX", subject), "the message over IMAP")
        check(USER1.lower() in msg["From"].lower(), f"From over IMAP: {msg['From']}")
    # HTML body, send without a saved copy.
    subject2 = tag("HTML news")
    Message(account=a, subject=subject2, body=HTMLBody("<p>Hello <b>Bob</b></p>"), to_recipients=[Mailbox(email_address=USER2)]).send(save_copy=False)
    got2 = find_one(bob().inbox, subject2)
    check("<b>Bob</b>" in str(got2.body), f"HTML body at bob: {got2.body!r}")
    check(not list(a.sent.filter(subject=subject2)), "send(save_copy=False) left a copy in Sent Items")


@scenario("attachments")
def _():
    a = alice()
    subject = tag("Report attached")
    blob = bytes(range(256)) * 40
    m = Message(account=a, folder=a.sent, subject=subject, body="See the file.", to_recipients=[Mailbox(email_address=USER2)])
    m.attach(FileAttachment(name="report.bin", content=blob, content_type="application/octet-stream"))
    m.attach(FileAttachment(name="notes.txt", content="naïve café\n".encode(), content_type="text/plain"))
    m.send_and_save()
    got = find_one(bob().inbox, subject)
    check(got.has_attachments, "has_attachments")
    byname = {att.name: att for att in got.attachments}
    eq(sorted(byname), ["notes.txt", "report.bin"], "attachment names")
    eq(byname["report.bin"].content, blob, "binary attachment content (GetAttachment)")
    eq(byname["notes.txt"].content, "naïve café\n".encode(), "text attachment content")
    with Imap(USER2, PASS2) as im:
        msg = im.fetch_message("INBOX", subject)
        parts = {p.get_filename(): p.get_payload(decode=True) for p in msg.iter_attachments()}
        eq(parts.get("report.bin"), blob, "attachment over IMAP")
    # An attachment of mail that came in over SMTP.
    subject2 = tag("Scan from the copier")
    pdf = b"%PDF-1.4\n" + bytes(range(200)) + b"\n%%EOF\n"
    m2 = deliver(subject2, "Scan attached.", attachments=[("scan.pdf", pdf, "application/pdf")])
    eq([x.name for x in m2.attachments], ["scan.pdf"], "received attachment name")
    eq(m2.attachments[0].content, pdf, "received attachment content")
    # CreateAttachment / DeleteAttachment on a saved draft.
    d = Message(account=a, folder=a.drafts, subject=tag("Draft with file"), body="x")
    d.save()
    d.attach(FileAttachment(name="a.txt", content=b"first"))
    d.attach(FileAttachment(name="b.txt", content=b"second"))
    d = a.drafts.get(id=d.id)
    eq(sorted(x.name for x in d.attachments), ["a.txt", "b.txt"], "attachments after CreateAttachment")
    d.detach(next(x for x in d.attachments if x.name == "a.txt"))
    d = a.drafts.get(id=d.id)
    eq([x.name for x in d.attachments], ["b.txt"], "attachments after DeleteAttachment")
    eq(d.attachments[0].content, b"second", "remaining attachment content")


@scenario("drafts")
def _():
    a = alice()
    subject = tag("Draft plan")
    d = Message(account=a, folder=a.drafts, subject=subject, body="first version", to_recipients=[Mailbox(email_address=OUTSIDE)])
    d.save()
    check(d.id and d.changekey, "saved draft has id and changekey")
    d.to_recipients = [Mailbox(email_address=USER2)]
    d.cc_recipients = [Mailbox(email_address=USER1)]
    d.body = "second version"
    d.save(update_fields=["to_recipients", "cc_recipients", "body"])
    d2 = a.drafts.get(id=d.id)
    eq([r.email_address.lower() for r in d2.to_recipients], [USER2.lower()], "draft's To after UpdateItem")
    eq([r.email_address.lower() for r in d2.cc_recipients], [USER1.lower()], "draft's Cc after UpdateItem")
    check("second version" in str(d2.body), "draft body after UpdateItem")
    check(d2.is_draft, "is_draft")
    with Imap(USER1, PASS1) as im:
        msg = im.fetch_message("Drafts", subject)
        check(msg is not None and USER2.lower() in msg["To"].lower(), "IMAP Drafts shows the updated draft")
    d2.send()  # SendItem of the saved draft, copy to Sent Items
    find_one(bob().inbox, subject)
    find_one(a.sent, subject)
    check(not list(a.drafts.filter(subject=subject)), "the sent draft is still in Drafts")


@scenario("read_flags_categories")
def _():
    a = alice()
    subject = tag("Flag me")
    m = deliver(subject, "body")
    ck0 = m.changekey  # save() replaces m's id and change key with UpdateItem's answer
    m.is_read = True
    m.categories = ["Red category", "Project X"]
    m.save(update_fields=["is_read", "categories"])
    m2 = a.inbox.get(id=m.id)
    eq(m2.is_read, True, "is_read after UpdateItem")
    eq(sorted(m2.categories or []), ["Project X", "Red category"], "categories after UpdateItem")
    check(m2.changekey != ck0, "the change key did not change with the item")
    with Imap(USER1, PASS1) as im:
        flags = next(f for _, f, s in im.messages("INBOX") if s == subject)
        check("\\Seen" in flags, f"IMAP flags after is_read: {flags}")
        # And the reverse: IMAP clears \Seen, EWS sees it unread.
        im.select("INBOX", readonly=False)
        uid = next(u for u, _, s in im.messages("INBOX") if s == subject)
        im.select("INBOX", readonly=False)
        im.c.uid("STORE", str(uid), "-FLAGS", "(\\Seen)")
    eq(a.inbox.get(id=m.id).is_read, False, "is_read after IMAP cleared \\Seen")


@scenario("flag_status_extended_property")
def _():
    a = alice()
    subject = tag("Follow up")
    m = deliver(subject, "body")
    m.flag_status = 2
    m.save(update_fields=["flag_status"])
    eq(a.inbox.get(id=m.id).flag_status, 2, "PidTagFlagStatus read back")
    with Imap(USER1, PASS1) as im:
        flags = next(f for _, f, s in im.messages("INBOX") if s == subject)
        check("\\Flagged" in flags, f"IMAP flags after flag_status=2: {flags}")


@scenario("move_copy_delete")
def _():
    a = alice()
    target = Folder(parent=a.inbox, name=tag("Moved here"))
    target.save()
    subject = tag("Move me")
    m = deliver(subject, "body")
    m.move(target)
    check(not list(a.inbox.filter(subject=subject)), "still in inbox after MoveItem")
    moved = find_one(target, subject)
    copy = moved.copy(a.inbox)  # CopyItem returns the new id
    check(copy is None or copy[0], "copy id")
    find_one(a.inbox, subject)
    with Imap(USER1, PASS1) as im:
        check(any(s == subject for _, _, s in im.messages("INBOX/" + target.name)) or any(
            s == subject for _, _, s in im.messages("INBOX." + target.name)), "IMAP: not in the target folder")
        check(any(s == subject for _, _, s in im.messages("INBOX")), "IMAP: the copy is not in INBOX")
    # Move to Deleted Items, then a soft and a hard delete.
    in_inbox = a.inbox.get(subject=subject)
    in_inbox.move_to_trash()
    find_one(a.trash, subject)
    # DeleteItem DeleteType=SoftDelete; exchangelib then files the item under the (virtual) Recoverable Items folder.
    moved.soft_delete()
    check(not list(target.filter(subject=subject)), "soft-deleted item still listed")
    a.trash.get(subject=subject).delete()
    check(not list(a.trash.filter(subject=subject)), "hard-deleted item still listed")
    with Imap(USER1, PASS1) as im:
        check(not any(s == subject for _, _, s in im.messages("INBOX")), "IMAP: still in INBOX")
    target.delete()


@scenario("mark_as_junk")
def _():
    a = alice()
    subject = tag("Cheap watches")
    m = deliver(subject, "buy now")
    m.mark_as_junk(is_junk=True, move_item=True)
    find_one(a.junk, subject)
    check(not list(a.inbox.filter(subject=subject)), "still in inbox after MarkAsJunk")
    with Imap(USER1, PASS1) as im:
        check(any(s == subject for _, _, s in im.messages("Junk")), "IMAP: not in Junk")


@scenario("mime_upload")
def _():
    a = alice()
    subject = tag("Imported message")
    raw = (
        f"From: Dana <dana@outside.example>\r\nTo: {USER1}\r\nSubject: {subject}\r\n"
        "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <imported-1@outside.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nImported over EWS.\r\n"
    ).encode()
    Message(account=a, folder=a.inbox, mime_content=raw, is_read=True).save()
    m = find_one(a.inbox, subject)
    eq(m.sender.email_address.lower(), "dana@outside.example", "sender from MIME")
    with Imap(USER1, PASS1) as im:
        msg = im.fetch_message("INBOX", subject)
        check(msg is not None and "Imported over EWS." in msg.get_content(), "IMAP: the uploaded message")


# --- search ----------------------------------------------------------------------------------------


@scenario("search")
def _():
    a = alice()
    f = Folder(parent=a.inbox, name=tag("Search"))
    f.save()
    key = uuid.uuid4().hex[:6]
    with Imap(USER1, PASS1) as im:
        imap_name = next(n for n in im.folders() if n.endswith(f.name))
        for i in range(12):
            raw = (
                f"From: sender{i % 3}@outside.example\r\nTo: {USER1}\r\nSubject: {key} item {i:02d} {'urgent' if i % 4 == 0 else 'normal'}\r\n"
                f"Date: Mon, 07 Dec 2026 {8 + i:02d}:00:00 +0000\r\nMessage-ID: <s{i}-{key}@outside.example>\r\n\r\nbody {i}\r\n"
            ).encode()
            im.append(imap_name, raw, "(\\Seen)" if i % 2 else "")
    eq(f.all().count(), 12, "count()")
    eq(f.filter(subject__contains="urgent").count(), 3, "subject__contains")
    eq(f.filter(is_read=False).count(), 6, "is_read=False")
    subs = [m.subject for m in f.all().order_by("subject").only("subject")]
    eq(subs, sorted(subs), "order_by subject")
    desc = [m.subject for m in f.all().order_by("-subject")]
    eq(desc, sorted(subs, reverse=True), "order_by -subject")
    eq(len(subs), 12, "all() length")
    q = f.filter(Q(subject__contains="urgent") | Q(sender="sender1@outside.example"))
    eq(q.count(), 3 + 4 - 1, "Q or")  # items 0,4,8 urgent; 1,4,7,10 from sender1 (4 is both)
    check(f.filter(subject__startswith=key).exists(), "exists()")
    check(not f.filter(subject="no such subject").exists(), "not exists()")
    only = f.all().only("subject", "is_read")[0]
    check(only.subject and only.body is None, "only() fetched just the fields asked")
    newest = f.all().order_by("-datetime_received")[0]
    check(newest.subject is not None, "order_by -datetime_received")
    vals = list(f.all().order_by("subject").values_list("subject", flat=True)[:3])
    eq(len(vals), 3, "values_list slice")
    # The same search from IMAP's view.
    with Imap(USER1, PASS1) as im:
        im.select(imap_name)
        typ, data = im.c.search(None, "UNSEEN")
        eq(len(data[0].split()), 6, "IMAP UNSEEN count")


@scenario("paging_250_plus")
def _():
    a = alice()
    f = Folder(parent=a.inbox, name=tag("Bulk"))
    f.save()
    n = 260
    with Imap(USER1, PASS1) as im:
        imap_name = next(x for x in im.folders() if x.endswith(f.name))
        for i in range(n):
            raw = f"From: bulk@outside.example\r\nTo: {USER1}\r\nSubject: bulk {i:04d}\r\nMessage-ID: <b{i}@outside.example>\r\n\r\nbody\r\n".encode()
            im.append(imap_name, raw)
    f.refresh()
    eq(f.total_count, n, "total_count")
    qs = f.all().order_by("subject").only("subject")
    qs.page_size = 100
    subjects = [m.subject for m in qs]
    eq(len(subjects), n, "items through paged FindItem")
    eq(subjects, [f"bulk {i:04d}" for i in range(n)], "order over pages")
    eq([m.subject for m in f.all().order_by("subject")[250:255]], [f"bulk {i:04d}" for i in range(250, 255)], "offset slice")
    eq(f.all().count(), n, "count()")
    ids = {m.id for m in f.all().only("id")}
    eq(len(ids), n, "distinct ids")
    f.delete()


if __name__ == "__main__":
    run_all()
