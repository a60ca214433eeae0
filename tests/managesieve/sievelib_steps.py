"""Drives python3-sievelib's ManageSieve client (sievelib.managesieve.Client)
against a server: argv = port user password; prints one JSON object with what
each call returned, for tests/managesieve/clients.test.ts to check."""
import json
import sys

from sievelib.managesieve import Client

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
good = 'require ["fileinto"];\r\nif header :contains "subject" "invoice" {\r\n  fileinto "Accounts";\r\n}\r\n'
bad = 'require ["fileinto"];\r\nif header :contains "subject" "x" {\r\n  filenito "A";\r\n}\r\n'
out = {}
c = Client("127.0.0.1", port)
out["connect"] = c.connect(user, password, starttls=True, authmech="PLAIN")
out["implementation"] = c.get_implementation()
out["sasl"] = c.get_sasl_mechanisms()
out["sieve"] = c.get_sieve_capabilities()
out["havespace"] = c.havespace("rules", len(good))
out["havespace_huge"] = c.havespace("rules", 100 * 1024 * 1024)
out["check_good"] = c.checkscript(good)
out["check_bad"] = c.checkscript(bad)
out["check_bad_msg"] = (c.errmsg or b"").decode() if isinstance(c.errmsg, bytes) else c.errmsg
out["put"] = c.putscript("rules", good)
out["put_bad"] = c.putscript("broken", bad)
out["list1"] = c.listscripts()
out["setactive"] = c.setactive("rules")
out["list2"] = c.listscripts()
out["get"] = c.getscript("rules")
out["rename"] = c.renamescript("rules", "office rules")
out["list3"] = c.listscripts()
out["delete_active"] = c.deletescript("office rules")
out["delete_active_code"] = (c.errcode or b"").decode() if isinstance(c.errcode, bytes) else c.errcode
out["deactivate"] = c.setactive("")
out["delete"] = c.deletescript("office rules")
out["delete_missing"] = c.deletescript("office rules")
out["delete_missing_code"] = (c.errcode or b"").decode() if isinstance(c.errcode, bytes) else c.errcode
out["list4"] = c.listscripts()
c.logout()

# LOGIN mechanism (sievelib pipelines both responses), without STARTTLS when the server allows plaintext.
c2 = Client("127.0.0.1", port)
out["login_mech"] = c2.connect(user, password, starttls=True, authmech="LOGIN")
out["login_list"] = c2.listscripts()
c2.logout()
c3 = Client("127.0.0.1", port)
out["wrong_password"] = c3.connect(user, password + "x", starttls=True, authmech="PLAIN")
print(json.dumps(out))
