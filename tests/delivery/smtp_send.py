"""One SMTP transaction with Python's smtplib, as a real client sends it.

Usage: smtp_send.py PORT FROM TO[,TO...] MESSAGE_FILE [USER PASSWORD]
With USER and PASSWORD: STARTTLS (the test server's self-signed certificate
is accepted) and AUTH first, as a submission client does. smtplib adds SIZE
to MAIL FROM when the server offers it.

Prints one JSON line: {"code": <DATA reply code>, "refused": {rcpt: code}}.
A transaction refused as a whole prints the code of the refusing reply.
"""
import json
import smtplib
import ssl
import sys

port, sender, rcpts, path = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4]
user = sys.argv[5] if len(sys.argv) > 6 else None
password = sys.argv[6] if len(sys.argv) > 6 else None
with open(path, "rb") as f:
    msg = f.read()

out = {"code": 0, "refused": {}}
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
try:
    s.ehlo("client.example")
    if user:
        s.starttls(context=ssl._create_unverified_context())
        s.ehlo("client.example")
        s.login(user, password)
    refused = s.sendmail(sender, rcpts, msg)
    out["code"] = 250
    out["refused"] = {k: v[0] for k, v in refused.items()}
except smtplib.SMTPDataError as e:
    out["code"] = e.smtp_code
    out["text"] = e.smtp_error.decode("utf-8", "replace")
except smtplib.SMTPRecipientsRefused as e:
    out["code"] = 550
    out["refused"] = {k: v[0] for k, v in e.recipients.items()}
except smtplib.SMTPSenderRefused as e:
    out["code"] = e.smtp_code
    out["text"] = e.smtp_error.decode("utf-8", "replace")
finally:
    try:
        s.quit()
    except Exception:
        pass
print(json.dumps(out))
