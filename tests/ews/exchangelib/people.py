"""
exchangelib against Pillarbox for people, contacts and tasks (helper E's
area): ResolveNames (the directory, contacts, several matches, none),
ExpandDL of a one-to-many alias, a contact saved with indexed fields, changed
field by field and listed, a contact group, and a task created, completed with
Task.complete() and deleted. Run by tests/ews/people-exchangelib.test.ts,
which creates the users and the team@ alias first (PB_TEAM).
"""
import os
import uuid
from decimal import Decimal

from suite_lib import USER1, USER2, alice, check, eq, run_all, scenario
from exchangelib import Contact, DistributionList, EWSDate, EWSDateTime, Mailbox, Task, UTC
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.properties import Member

TEAM = os.environ.get("PB_TEAM", "")


@scenario("resolve_names")
def _():
    a = alice()
    # one match in the directory, with the full contact data
    res = a.protocol.resolve_names(["bob"], return_full_contact_data=True)
    eq(len(res), 1, f"one resolution for 'bob': {res}")
    mailbox, contact = res[0]
    eq(mailbox.email_address.lower(), USER2.lower(), "bob's address")
    eq(mailbox.mailbox_type, "Mailbox", "mailbox type")
    check(contact is not None and contact.display_name, f"contact data for bob: {contact}")
    # nothing: exchangelib returns the ErrorNameResolutionNoResults it got instead of raising
    none = a.protocol.resolve_names(["no-such-person-" + uuid.uuid4().hex[:6]])
    eq([type(x).__name__ for x in none], ["ErrorNameResolutionNoResults"], "no resolution")
    # an address with the routing type prefix
    res = a.protocol.resolve_names([f"SMTP:{USER2}"])
    eq([r.email_address.lower() for r in res], [USER2.lower()], "SMTP: prefix")
    # a one-to-many alias is a public distribution list
    res = a.protocol.resolve_names([TEAM])
    eq([(r.email_address, r.mailbox_type) for r in res], [(TEAM, "PublicDL")], "the team alias")


@scenario("expand_dl")
def _():
    a = alice()
    members = a.protocol.expand_dl(TEAM)
    eq(sorted(m.email_address.lower() for m in members), sorted([USER1.lower(), USER2.lower()]), "members of the team alias")
    eq(a.protocol.expand_dl(Mailbox(email_address=TEAM)) and True, True, "ExpandDL by a Mailbox")


@scenario("contact_roundtrip")
def _():
    a = alice()
    surname = "Quill" + uuid.uuid4().hex[:5]
    c = Contact(
        folder=a.contacts,
        given_name="Peter",
        surname=surname,
        display_name=f"Peter {surname}",
        company_name="Guardians",
        job_title="Captain",
        email_addresses=[EmailAddress(email="peter@guardians.example", label="EmailAddress1")],
        phone_numbers=[PhoneNumber(label="MobilePhone", phone_number="+1 555 0142"), PhoneNumber(label="HomePhone", phone_number="+1 555 0143")],
        physical_addresses=[PhysicalAddress(label="Home", street="2 Knowhere Rd", city="Knowhere", zipcode="00001", country="Space")],
        birthday=EWSDate(1980, 7, 12),
    )
    c.save()
    got = a.contacts.get(id=c.id)
    eq((got.given_name, got.surname, got.display_name), ("Peter", surname, f"Peter {surname}"), "names")
    eq([(e.label, e.email) for e in got.email_addresses], [("EmailAddress1", "peter@guardians.example")], "emails")
    eq(sorted((p.label, p.phone_number) for p in got.phone_numbers), [("HomePhone", "+1 555 0143"), ("MobilePhone", "+1 555 0142")], "phones")
    eq((got.physical_addresses[0].label, got.physical_addresses[0].city, got.physical_addresses[0].zipcode), ("Home", "Knowhere", "00001"), "address")
    eq(got.birthday, EWSDate(1980, 7, 12), "birthday")
    # field by field: a new job title, a second address, one phone less
    got.job_title = "Star-Lord"
    got.email_addresses = [EmailAddress(email="peter@guardians.example", label="EmailAddress1"), EmailAddress(email="starlord@milano.example", label="EmailAddress2")]
    got.phone_numbers = [PhoneNumber(label="MobilePhone", phone_number="+1 555 0199")]
    got.save(update_fields=["job_title", "email_addresses", "phone_numbers"])
    again = a.contacts.get(id=c.id)
    eq(again.job_title, "Star-Lord", "job title")
    eq(sorted(e.email for e in again.email_addresses), ["peter@guardians.example", "starlord@milano.example"], "emails after update")
    eq([(p.label, p.phone_number) for p in again.phone_numbers], [("MobilePhone", "+1 555 0199")], "phones after update")
    eq(again.company_name, "Guardians", "untouched company")
    # listed, and found by ResolveNames as a contact
    check(surname in [x.surname for x in a.contacts.all()], "contacts.all() lists it")
    res = a.protocol.resolve_names([surname], return_full_contact_data=True)
    eq(len(res), 1, f"ResolveNames of the contact: {res}")
    eq((res[0][0].email_address, res[0][0].mailbox_type), ("peter@guardians.example", "Contact"), "resolved as a contact")
    again.delete()
    check(surname not in [x.surname for x in a.contacts.all()], "deleted")


@scenario("contact_group")
def _():
    a = alice()
    name = "Crew " + uuid.uuid4().hex[:5]
    dl = DistributionList(folder=a.contacts, display_name=name, members=[Member(mailbox=Mailbox(email_address="rocket@guardians.example")), Member(mailbox=Mailbox(email_address="groot@guardians.example"))])
    dl.save()
    got = a.contacts.get(id=dl.id)
    eq(got.display_name, name, "group name")
    eq(sorted(m.mailbox.email_address for m in got.members), ["groot@guardians.example", "rocket@guardians.example"], "group members")
    # (exchangelib never writes a Mailbox's ItemId, so ExpandDL of a private list is tested in people.test.ts)
    res = a.protocol.resolve_names([name], search_scope="Contacts")
    eq([(r.name, r.mailbox_type) for r in res], [(name, "PrivateDL")], "ResolveNames of the group")
    got.delete()


@scenario("task_lifecycle")
def _():
    a = alice()
    subject = "Service the ship " + uuid.uuid4().hex[:5]
    t = Task(folder=a.tasks, subject=subject, due_date=EWSDate(2027, 6, 30), start_date=EWSDate(2027, 6, 1), status="InProgress", percent_complete=Decimal(20), body="Oil and filters.")
    t.save()
    got = a.tasks.get(id=t.id)
    eq((got.subject, got.status, float(got.percent_complete)), (subject, "InProgress", 20.0), "created")
    eq((got.start_date, got.due_date), (EWSDate(2027, 6, 1), EWSDate(2027, 6, 30)), "dates")
    eq(got.is_complete, False, "not complete")
    got.complete()
    done = a.tasks.get(id=t.id)
    eq((done.status, float(done.percent_complete), done.is_complete), ("Completed", 100.0, True), "completed")
    check(done.complete_date is not None and done.complete_date <= EWSDateTime.now(tz=UTC), "complete date")
    check(subject in [x.subject for x in a.tasks.all()], "tasks.all() lists it")
    done.delete()
    check(subject not in [x.subject for x in a.tasks.all()], "deleted")


if __name__ == "__main__":
    run_all()
