"""
exchangelib against Pillarbox's folder and sync operations (helper B's area):
the folder tree from the root, children, folder classes, create/move/empty,
SyncFolderHierarchy and SyncFolderItems with changes made over IMAP and
SMTP in between. Run by tests/ews/folders-exchangelib.test.ts; prints
"PASS name" / "FAIL name: reason" per scenario (suite_lib.run_all).
"""

from suite_lib import PASS1, USER1, account, alice, check, eq, Imap, run_all, scenario, smtp_send, tag, wait_for
from exchangelib import Folder, Message
from exchangelib.folders import Calendar, Contacts, Messages, Tasks


@scenario("tree_from_root")
def _():
    a = alice()
    a.root.refresh()
    top = a.msg_folder_root
    check(top.parent.id == a.root.id, "msgfolderroot's parent is the root")
    names = {f.name for f in top.children}
    for n in ("INBOX", "Sent", "Trash", "Calendar", "Contacts", "Tasks"):
        check(n in names, f"{n} not under the top of the information store: {sorted(names)}")
    eq(type(a.calendar), Calendar, "calendar folder class")
    eq(type(a.contacts), Contacts, "contacts folder class")
    eq(type(a.tasks), Tasks, "tasks folder class")
    check(isinstance(a.inbox, Messages), f"inbox class {type(a.inbox)}")
    walked = list(a.root.walk())
    check(any(f.id == a.inbox.id for f in walked), "root.walk() finds the inbox")
    eq(a.inbox.child_folder_count, len(list(a.inbox.children)), "inbox child count")


@scenario("sync_hierarchy")
def _():
    a = alice()
    inbox = a.inbox
    name = tag("Synced")
    f = Folder(parent=inbox, name=name)
    f.save()
    first = list(inbox.sync_hierarchy())
    check(("create", name) in [(t, x.name) for t, x in first], f"first hierarchy sync lacks {name}: {[(t, getattr(x, 'name', x)) for t, x in first]}")
    state = inbox.folder_sync_state
    check(state, "no folder sync state")
    eq(list(inbox.sync_hierarchy()), [], "no changes since the last sync")
    with Imap(USER1, PASS1) as im:
        typ, _ = im.c.create('"INBOX/' + name + '/Made over IMAP"')
        check(typ == "OK", "IMAP CREATE")
    changes = list(inbox.sync_hierarchy())
    eq([(t, x.name) for t, x in changes], [("create", "Made over IMAP")], "IMAP-made folder")
    made_id = changes[0][1].id
    f.name = name + " renamed"
    f.save()
    changes = list(inbox.sync_hierarchy())
    check(("update", name + " renamed") in [(t, getattr(x, "name", None)) for t, x in changes], f"rename: {changes}")
    f_id = f.id  # delete() forgets it
    f.delete()
    changes = list(inbox.sync_hierarchy())
    deleted = {x.id for t, x in changes if t == "delete"}
    check(f_id in deleted, f"delete not reported: {changes}")
    check(made_id in deleted, f"the subfolder's delete not reported: {changes}")


@scenario("sync_items")
def _():
    a = alice()
    box = Folder(parent=a.inbox, name=tag("Sync items"))
    box.save()
    subjects = [tag("sync item") for _ in range(7)]
    with Imap(USER1, PASS1) as im:
        imap_name = next(n for n in im.folders() if n.endswith(box.name))
        for s in subjects:
            im.append(imap_name, f"From: x@outside.example\r\nTo: {USER1}\r\nSubject: {s}\r\n\r\nbody\r\n".encode())
    created = [(t, i) for t, i in box.sync_items(max_changes_returned=3)]
    eq(sorted(i.subject for t, i in created), sorted(subjects), "first sync of the folder, in windows of 3")
    check(all(t == "create" for t, _ in created), f"first sync types {[t for t, _ in created]}")
    eq(list(box.sync_items()), [], "nothing changed since")
    with Imap(USER1, PASS1) as im:
        im.select(imap_name, readonly=False)
        typ, _ = im.c.store("1", "+FLAGS", "(\\Seen)")
        check(typ == "OK", "IMAP STORE")
        typ, _ = im.c.store("2", "+FLAGS", "(\\Deleted)")
        im.c.expunge()
    changes = list(box.sync_items())
    kinds = sorted(t for t, _ in changes)
    check(kinds in (["delete", "update"], ["delete", "read_flag_change"]), f"flag + expunge: {changes}")
    # a message delivered over SMTP to the inbox comes as a create
    a.inbox.item_sync_state = None
    for _ in a.inbox.sync_items(only_fields=["subject"]):
        pass
    subject = tag("over smtp")
    smtp_send("x@outside.example", [USER1], subject)
    got = wait_for(lambda: [i for t, i in a.inbox.sync_items(only_fields=["subject"]) if t == "create"] or None, "SMTP message in sync_items")
    eq([i.subject for i in got], [subject], "SMTP delivery")
    box.delete()


@scenario("create_move_empty")
def _():
    a = alice()
    parent = Folder(parent=a.msg_folder_root, name=tag("Parent"))
    parent.save()
    child = Folder(parent=a.inbox, name=tag("Mover"))
    child.save()
    child.move(parent)
    a.root.refresh()
    eq([c.name for c in parent.children], [child.name], "moved folder under its new parent")
    with Imap(USER1, PASS1) as im:
        names = im.folders()
        check(f"{parent.name}/{child.name}" in names, f"IMAP after move: {names}")
        im.append(f"{parent.name}/{child.name}", f"From: x@outside.example\r\nTo: {USER1}\r\nSubject: e\r\n\r\nb\r\n".encode())
    child.refresh()
    eq(child.total_count, 1, "one message in the moved folder")
    child.empty()
    child.refresh()
    eq(child.total_count, 0, "emptied")
    parent.empty(delete_sub_folders=True)
    a.root.refresh()
    eq(list(parent.children), [], "subfolders gone")
    parent.delete()
    cal = Calendar(parent=a.msg_folder_root, name=tag("Team calendar"))
    cal.save()
    a.root.refresh()
    check(cal.name in {c.name for c in a.msg_folder_root.children}, "new calendar listed")
    cal.delete()


@scenario("soft_delete_deletions_folder")
def _():
    # Item.soft_delete() looks up the recoverable-items Deletions folder after the delete: it is there, and empty.
    a = alice()
    subject = tag("soft")
    m = Message(account=a, folder=a.drafts, subject=subject)
    m.save()
    m.soft_delete()
    eq(m.folder.name, "Deletions", "the soft-deleted item's folder")
    check(not list(a.drafts.filter(subject=subject)), "soft-deleted draft still listed")
    eq(list(a.recoverable_items_deletions.all()), [], "Deletions holds nothing")


if __name__ == "__main__":
    run_all()
