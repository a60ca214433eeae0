"""An IMAP session (imaplib) watches INBOX while a POP3 session (poplib)
deletes messages 1 and 3 and QUITs; prints what IMAP saw as JSON.

usage: imap_sees_pop3.py IMAP_PORT POP3S_PORT USER PASSWORD
"""
import imaplib
import json
import poplib
import ssl
import sys
import time

imap_port, pop_port, user, pw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

out = {}
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login(user, pw)
typ, data = m.select("INBOX")
out["exists_before"] = int(data[0])
m.untagged_responses.clear()

p = poplib.POP3_SSL("127.0.0.1", pop_port, context=ctx)
p.user(user)
p.pass_(pw)
p.dele(1)
p.dele(3)
# Nothing is applied before QUIT (RFC 1939 §6): IMAP must not see an expunge yet.
m.noop()
out["expunge_before_quit"] = [x.decode() for x in m.untagged_responses.pop("EXPUNGE", [])]
out["quit"] = p.quit().decode()

expunges = []
for _ in range(50):
    m.noop()
    expunges += [x.decode() for x in m.untagged_responses.pop("EXPUNGE", [])]
    if len(expunges) >= 2:
        break
    time.sleep(0.1)
out["expunge_after_quit"] = expunges
typ, data = m.select("INBOX")
out["exists_after"] = int(data[0])
m.logout()
print(json.dumps(out))
