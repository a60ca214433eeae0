"""Drives python's poplib for the POP3 tests: reads a JSON list of steps on
stdin, runs them in order, prints a JSON list of results on stdout.

A step is [conn, op, *args]; `conn` names a connection so one run can hold
several sessions at once. ops: connect(port), connect_ssl(port), stls,
capa, user(name), pass_(pw), auth_plain(authcid, pw) (AUTH PLAIN with an
initial response, via _shortcmd), stat, list, list1(n), uidl, top(n, lines),
retr(n), dele(n), rset, noop, quit, drop (close without QUIT), raw(line).
Message bodies come back base64-encoded (lines re-joined with CRLF, i.e.
exactly what poplib received after un-stuffing).
"""
import base64
import json
import poplib
import ssl
import sys


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def main() -> None:
    steps = json.load(sys.stdin)
    conns = {}
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = []
    for step in steps:
        name, op, *args = step
        try:
            p = conns.get(name)
            if op == "connect":
                p = conns[name] = poplib.POP3("127.0.0.1", args[0], timeout=20)
                res = p.getwelcome().decode()
            elif op == "connect_ssl":
                p = conns[name] = poplib.POP3_SSL("127.0.0.1", args[0], context=ctx, timeout=20)
                res = p.getwelcome().decode()
            elif op == "stls":
                res = p.stls(context=ctx).decode()
            elif op == "capa":
                res = {k: v for k, v in p.capa().items()}
            elif op == "user":
                res = p.user(args[0]).decode()
            elif op == "pass_":
                res = p.pass_(args[0]).decode()
            elif op == "auth_plain":
                token = base64.b64encode(b"\0" + args[0].encode() + b"\0" + args[1].encode()).decode()
                res = p._shortcmd("AUTH PLAIN " + token).decode()
            elif op == "stat":
                res = list(p.stat())
            elif op == "list":
                resp, lines, octets = p.list()
                res = {"resp": resp.decode(), "lines": [l.decode() for l in lines]}
            elif op == "list1":
                res = p.list(args[0]).decode()
            elif op == "uidl":
                resp, lines, octets = p.uidl()
                res = {"resp": resp.decode(), "lines": [l.decode() for l in lines]}
            elif op == "top":
                resp, lines, octets = p.top(args[0], args[1])
                res = {"resp": resp.decode(), "body": b64(b"".join(l + b"\r\n" for l in lines)), "octets": octets}
            elif op == "retr":
                resp, lines, octets = p.retr(args[0])
                res = {"resp": resp.decode(), "body": b64(b"".join(l + b"\r\n" for l in lines)), "octets": octets}
            elif op == "dele":
                res = p.dele(args[0]).decode()
            elif op == "rset":
                res = p.rset().decode()
            elif op == "noop":
                res = p.noop().decode()
            elif op == "quit":
                res = p.quit().decode()
                del conns[name]
            elif op == "drop":
                # Hang up without QUIT: no UPDATE state on the server.
                p.sock.close()
                p.file.close()
                del conns[name]
                res = "dropped"
            elif op == "raw":
                res = p._shortcmd(args[0]).decode()
            else:
                raise ValueError("unknown op " + op)
            out.append({"ok": True, "res": res})
        except poplib.error_proto as e:
            out.append({"ok": False, "err": e.args[0].decode() if isinstance(e.args[0], bytes) else str(e.args[0])})
        except Exception as e:  # noqa: BLE001 - report every failure to the test
            out.append({"ok": False, "err": f"{type(e).__name__}: {e}"})
    print(json.dumps(out))


main()
