"""
The harness of the exchangelib end-to-end suites (tests/ews/exchangelib*.test.ts
run them with Debian's /usr/bin/python3 against a real Pillarbox).

Each scenario is a function registered with @scenario("name"); run_all() runs
them in order and prints one line per scenario, "PASS name" or
"FAIL name: reason", then exits non-zero if any failed. The bun test asserts
every expected name passed, so a scenario that never ran fails there too.

The server's ports and the test accounts come from the environment the bun
test sets: PB_EWS_HOST, PB_EWS_PORT (HTTPS), PB_SMTP_PORT, PB_IMAP_PORT,
PB_USER1/PB_PASS1, PB_USER2/PB_PASS2. PB_EWS_DEBUG=1 logs exchangelib's XML.
"""
import email.message
import imaplib
import logging
import os
import re
import smtplib
import sys
import time
import traceback
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if os.environ.get("PB_EWS_DEBUG"):
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)

import urllib3  # noqa: E402
from exchangelib import BaseProtocol, NoVerifyHTTPAdapter  # noqa: E402

urllib3.disable_warnings()  # the test server's self-signed certificate, on every request

# The test server's certificate is self-signed; a hung request should fail a scenario, not the whole file.
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
BaseProtocol.TIMEOUT = 20

HOST = os.environ.get("PB_EWS_HOST", "127.0.0.1")
EWS_PORT = int(os.environ.get("PB_EWS_PORT", "0"))
SMTP_PORT = int(os.environ.get("PB_SMTP_PORT", "0"))
IMAP_PORT = int(os.environ.get("PB_IMAP_PORT", "0"))
USER1 = os.environ.get("PB_USER1", "")
PASS1 = os.environ.get("PB_PASS1", "")
USER2 = os.environ.get("PB_USER2", "")
PASS2 = os.environ.get("PB_PASS2", "")
EWS_URL = f"https://{HOST}:{EWS_PORT}/EWS/Exchange.asmx"

# A's connection set-up (the plain endpoint, a guessed or fixed version, autodiscover), shared by every exchangelib script.
from common import account  # noqa: E402,F401


_SCENARIOS = []


def scenario(name):
    def register(fn):
        _SCENARIOS.append((name, fn))
        return fn

    return register


class Check(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Check(what)


def eq(actual, expected, what):
    if actual != expected:
        raise Check(f"{what}: expected {expected!r}, got {actual!r}")


def wait_for(fn, what, timeout=10.0, interval=0.2):
    """Polls fn() until it returns a truthy value (local delivery is asynchronous after SMTP's 250)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Check(f"timed out waiting for {what}")
        time.sleep(interval)


def describe(e):
    """One line for a failure: a SOAP fault's code and text instead of exchangelib's whole HTTP dump."""
    text = str(e)
    m = re.search(r"<faultstring[^>]*>(.*?)</faultstring>", text, re.S)
    code = re.search(r"<e:ResponseCode[^>]*>(.*?)</e:ResponseCode>", text, re.S)
    if m:
        status = re.search(r"Code: (\d+)", text)
        text = f"SOAP fault{' HTTP ' + status.group(1) if status else ''} {code.group(1) if code else ''}: {m.group(1)}"
    return f"{type(e).__name__}: {text}".replace("\n", " ")[:600]


def run_all():
    # Scenario names on the command line or in PB_EWS_ONLY (comma-separated) run just those.
    only = set(a for a in sys.argv[1:] if not a.startswith("-")) | set(filter(None, os.environ.get("PB_EWS_ONLY", "").split(",")))
    failed = 0
    for name, fn in _SCENARIOS:
        if only and name not in only:
            continue
        started = time.monotonic()
        try:
            fn()
        except Exception as e:  # every failure is reported by name; the next scenario still runs
            failed += 1
            reason = describe(e)
            print(f"FAIL {name}: {reason}", flush=True)
            tb = traceback.format_exc().strip().splitlines()
            # A block per failed scenario; the bun test shows the block of the scenario that failed.
            print(f"=== {name}\n" + "\n".join("    " + line[:400] for line in tb[-14:]) + f"\n=== end {name}", file=sys.stderr, flush=True)
            continue
        print(f"PASS {name} ({time.monotonic() - started:.2f}s)", flush=True)
    sys.exit(1 if failed else 0)


# --- the two test accounts and small helpers every script uses ---------------------------------

OUTSIDE = "carol@outside.example"
_ACCOUNTS = {}


def session(user, password):
    """One exchangelib Account per user for the whole script (its version guess and folder tree are made once)."""
    if user not in _ACCOUNTS:
        _ACCOUNTS[user] = account(user, password)
    return _ACCOUNTS[user]


def alice():
    return session(USER1, PASS1)


def bob():
    return session(USER2, PASS2)


def tag(label):
    """A subject or folder name unique to this run, so scenarios never see each other's items."""
    return f"{label} {uuid.uuid4().hex[:8]}"


def utc(*args):
    from exchangelib import UTC, EWSDateTime

    return EWSDateTime(*args, tzinfo=UTC)


def find_one(folder, subject, timeout=10.0):
    """The item with this subject in folder, waited for (delivery is asynchronous)."""
    return wait_for(lambda: next(iter(folder.filter(subject=subject)), None), f"{subject!r} in {folder.name}", timeout)


def deliver(subject, body="Hello.\r\n", attachments=(), sender=OUTSIDE):
    """Mail from outside over SMTP into alice's inbox; returns the item as exchangelib lists it there."""
    smtp_send(sender, [USER1], subject, body, attachments)
    return find_one(alice().inbox, subject)

# --- SMTP and IMAP, the other side of the cross-checks ---------------------------------------------


def smtp_send(sender, recipients, subject, body="Hello.\r\n", attachments=()):
    """Delivers a message over the server's SMTP listener (port 25 role: no authentication, local recipients)."""
    msg = email.message.EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = email.utils.make_msgid(domain="outside.example")
    msg.set_content(body)
    for filename, content, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    with smtplib.SMTP(HOST, SMTP_PORT, timeout=20) as s:
        s.send_message(msg, from_addr=sender, to_addrs=list(recipients))
    return msg


class Imap:
    """A plain-text IMAP session (the test server allows it on loopback) for cross-checking what EWS did."""

    def __init__(self, user, password):
        self.c = imaplib.IMAP4(HOST, IMAP_PORT, timeout=20)
        self.c.login(user, password)

    def close(self):
        try:
            self.c.logout()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def folders(self):
        typ, data = self.c.list()
        check(typ == "OK", f"IMAP LIST: {typ}")
        out = []
        for line in data:
            s = line.decode() if isinstance(line, bytes) else str(line)
            name = s.rsplit(' "', 1)[-1].rstrip('"') if s.endswith('"') else s.rsplit(" ", 1)[-1]
            out.append(name)
        return out

    def select(self, folder, readonly=True):
        typ, data = self.c.select(imaplib_quote(folder), readonly=readonly)
        check(typ == "OK", f"IMAP SELECT {folder}: {data}")
        return int(data[0])

    def messages(self, folder):
        """[(uid, flags, subject)] of a folder."""
        n = self.select(folder)
        if n == 0:
            return []
        typ, data = self.c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        check(typ == "OK", f"IMAP FETCH: {data}")
        out = []
        for part in data:
            if not isinstance(part, tuple):
                continue
            meta = part[0].decode()
            uid = int(meta.split("UID ", 1)[1].split()[0])
            flags = meta.split("FLAGS (", 1)[1].split(")", 1)[0].split() if "FLAGS (" in meta else []
            hdr = email.message_from_bytes(part[1])
            subj = str(email.header.make_header(email.header.decode_header(hdr.get("Subject", ""))))
            out.append((uid, flags, subj))
        return out

    def fetch_message(self, folder, subject):
        """The whole message (email.message.Message) with this subject, or None."""
        self.select(folder)
        typ, data = self.c.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT", imaplib_quote(subject))
        check(typ == "OK", f"IMAP SEARCH: {data}")
        uids = data[0].split()
        if not uids:
            return None
        typ, data = self.c.uid("FETCH", uids[-1], "(BODY.PEEK[])")
        check(typ == "OK", f"IMAP FETCH: {data}")
        raw = next(p[1] for p in data if isinstance(p, tuple))
        return email.message_from_bytes(raw, policy=email.policy.default)

    def append(self, folder, raw, flags=""):
        typ, data = self.c.append(imaplib_quote(folder), flags, None, raw)
        check(typ == "OK", f"IMAP APPEND: {data}")


def imaplib_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


import email.header  # noqa: E402
import email.policy  # noqa: E402
import email.utils  # noqa: E402
