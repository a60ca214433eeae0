"""
Thunderbird's built-in Exchange (EWS) account against a running Pillarbox,
headless, driven over Marionette (Thunderbird's own remote protocol; no
fetched code): a fresh profile whose prefs.js holds an "ews" incoming server
pointing at the EWS URL, Thunderbird started with --headless --marionette,
then chrome-context scripts that accept the test certificate, give the
account its password, ask it to sync the folder tree and the inbox, and
read back what Thunderbird now has (folders, message subjects). Prints one
line per step ("ok ..." / "FAIL ...") and, last, a JSON summary.

    /usr/bin/python3 tb_ews.py --port HTTPS_PORT --user EMAIL --password PW [--expect SUBJECT] [--mark-read] [--keep]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--expect", default="")
p.add_argument("--keep", action="store_true")
p.add_argument("--mark-read", action="store_true", help="then mark the inbox read in Thunderbird (the server should see \\Seen)")
p.add_argument("--timeout", type=int, default=90)
args = p.parse_args()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


profile = tempfile.mkdtemp(prefix="pillarbox-tb-ews-")
mport = free_port()
ews_url = f"https://localhost:{args.port}/EWS/Exchange.asmx"
prefs = {
    "marionette.port": mport,
    "mail.shell.checkDefaultClient": False,
    "mail.provider.suppress_dialog_on_startup": True,
    "mail.spotlight.firstRunDone": True,
    "mail.winsearch.firstRunDone": True,
    "mailnews.start_page.enabled": False,
    "app.update.enabled": False,
    "app.update.auto": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "mail.rights.version": 1,
    "mail.startup.enabledMailCheckOnce": True,
    "mail.accountmanager.accounts": "account1",
    "mail.accountmanager.defaultaccount": "account1",
    "mail.account.account1.identities": "id1",
    "mail.account.account1.server": "server1",
    "mail.identity.id1.useremail": args.user,
    "mail.identity.id1.fullName": "Thunderbird EWS test",
    "mail.identity.id1.valid": True,
    "mail.server.server1.type": "ews",
    "mail.server.server1.hostname": "localhost",
    "mail.server.server1.port": args.port,
    "mail.server.server1.userName": args.user,
    "mail.server.server1.name": args.user,
    "mail.server.server1.ews_url": ews_url,
    "mail.server.server1.authMethod": 3,  # nsMsgAuthMethod.passwordCleartext: HTTP Basic
    "mail.server.server1.socketType": 3,  # TLS
    "mail.server.server1.login_at_startup": False,
    "mail.server.server1.check_new_mail": False,
    "mail.server.server1.valid": True,
}
with open(os.path.join(profile, "prefs.js"), "w") as f:
    for k, v in prefs.items():
        f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")

cmd = ["thunderbird", "--headless", "--marionette", "-remote-allow-system-access", "--no-remote", "-profile", profile]
if shutil.which("xvfb-run"):
    cmd = ["xvfb-run", "-a"] + cmd
log = open(os.path.join(profile, "thunderbird.log"), "w")
tb = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, "MOZ_HEADLESS": "1"})

summary = {"thunderbird": None, "steps": []}


def step(ok, what):
    summary["steps"].append({"ok": bool(ok), "what": what})
    print(("ok " if ok else "FAIL ") + what, flush=True)


class Marionette:
    def __init__(self, port):
        deadline = time.monotonic() + 60
        while True:
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or tb.poll() is not None:
                    raise RuntimeError("Marionette did not open its port")
                time.sleep(0.5)
        self.s.settimeout(args.timeout)
        self.buf = b""
        self.hello = self.read()
        self.n = 0

    def read(self):
        while b":" not in self.buf:
            self.buf += self.s.recv(65536)
        n, rest = self.buf.split(b":", 1)
        n = int(n)
        while len(rest) < n:
            rest += self.s.recv(65536)
        self.buf = rest[n:]
        return json.loads(rest[:n])

    def call(self, name, params=None):
        self.n += 1
        data = json.dumps([0, self.n, name, params or {}]).encode()
        self.s.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self.read()
            if msg[0] == 1 and msg[1] == self.n:
                if msg[2]:
                    raise RuntimeError(f"{name}: {msg[2]}")
                return msg[3]


# Runs in Thunderbird's chrome context; resolve(...) ends it (Marionette's async script callback).
SYNC_SCRIPT = r"""
const [password, timeoutMs, markRead] = [arguments[0], arguments[1], arguments[2]];
const resolve = arguments[arguments.length - 1];
const out = { log: [] };
(async () => {
  const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
  // The test server's certificate is self-signed (this profile only).
  Cc["@mozilla.org/security/certoverride;1"].getService(Ci.nsICertOverrideService)
    .setDisableAllSecurityChecksAndLetAttackersInterceptMyData(true);
  const server = MailServices.accounts.getIncomingServer("server1");
  out.type = server.type;
  out.serverClass = String(server);
  server.password = password;
  const root = server.rootFolder;
  const inboxOf = () => root.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox);
  const names = () => root.descendants.map((f) => f.name);
  // The folder tree (EWS SyncFolderHierarchy), then new mail for the inbox (SyncFolderItems + GetItem).
  try { server.performExpand(null); out.log.push("performExpand called"); } catch (e) { out.log.push("performExpand: " + e); }
  const started = Date.now();
  while (!inboxOf() && Date.now() - started < timeoutMs / 2) await new Promise((r) => setTimeout(r, 250));
  out.folders = names();
  const inbox = inboxOf();
  if (!inbox) { out.error = "no Inbox after performExpand"; return; }
  try { inbox.getNewMessages(null, null); out.log.push("getNewMessages called"); } catch (e) { out.log.push("getNewMessages: " + e); }
  try { inbox.updateFolder(null); out.log.push("updateFolder called"); } catch (e) { out.log.push("updateFolder: " + e); }
  while (inbox.getTotalMessages(false) === 0 && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 250));
  out.total = inbox.getTotalMessages(false);
  out.subjects = [...inbox.messages].map((h) => h.mime2DecodedSubject);
  out.folders = names();
  if (markRead && out.total > 0) {
    // What a user's click does: Thunderbird marks the message read locally and tells the server (UpdateItem IsRead).
    inbox.markAllMessagesRead(null);
    await new Promise((r) => setTimeout(r, 3000));
    out.markedRead = true;
  }
})().then(() => resolve(out), (e) => { out.error = String(e); resolve(out); });
"""

code = 1
try:
    m = Marionette(mport)
    step(True, f"Marionette up ({m.hello.get('applicationType')}, protocol {m.hello.get('marionetteProtocol')})")
    caps = m.call("WebDriver:NewSession", {"capabilities": {}})
    summary["thunderbird"] = caps.get("capabilities", {}).get("browserVersion")
    step(True, f"Thunderbird {summary['thunderbird']} session")
    m.call("Marionette:SetContext", {"value": "chrome"})
    m.call("WebDriver:SetTimeouts", {"script": args.timeout * 1000})
    r = m.call("WebDriver:ExecuteAsyncScript", {"script": SYNC_SCRIPT, "args": [args.password, (args.timeout - 10) * 1000, args.mark_read]})
    res = r.get("value", r)
    summary["result"] = res
    step(res.get("type") == "ews", f"an incoming server of type {res.get('type')!r} ({res.get('serverClass')})")
    step(bool(res.get("folders")), f"folders: {res.get('folders')}")
    step((res.get("total") or 0) > 0, f"inbox messages downloaded: {res.get('total')} {res.get('subjects')}")
    if args.expect:
        step(args.expect in (res.get("subjects") or []), f"the message {args.expect!r} is in Thunderbird's inbox")
    if res.get("error"):
        step(False, f"script: {res['error']}")
    code = 0 if all(s["ok"] for s in summary["steps"]) else 1
except Exception as e:  # reported, then Thunderbird is stopped
    step(False, f"{type(e).__name__}: {e}")
finally:
    try:
        os.killpg(tb.pid, 15)
        tb.wait(10)
    except Exception:
        try:
            os.killpg(tb.pid, 9)
        except Exception:
            pass
    log.close()
    summary["thunderbird_log_tail"] = open(os.path.join(profile, "thunderbird.log"), errors="replace").read()[-3000:]
    if not args.keep:
        shutil.rmtree(profile, ignore_errors=True)
    else:
        summary["profile"] = profile
print(json.dumps(summary))
sys.exit(code)
