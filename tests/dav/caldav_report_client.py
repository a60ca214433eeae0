"""A small independent DAV client for the report tests: sends one REPORT
over HTTPS (Basic auth, certificate not checked: the test server's is
self-signed) and prints the multistatus as JSON, parsed with Python's own
XML parser: [{"href", "status", "props": {clark-name: text}}], or for a
non-multistatus answer {"status", "body"}.

    python3 caldav_report_client.py < request.json
    request.json: {"url", "user", "password", "depth", "body"}
"""
import base64
import json
import ssl
import sys
import urllib.parse
import http.client
import xml.etree.ElementTree as ET

D = "{DAV:}"


def main() -> None:
    req = json.load(sys.stdin)
    url = urllib.parse.urlsplit(req["url"])
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ssl._create_unverified_context(), timeout=30)
    auth = base64.b64encode(f'{req["user"]}:{req["password"]}'.encode()).decode()
    headers = {"Authorization": "Basic " + auth, "Content-Type": "application/xml; charset=utf-8", "Depth": req.get("depth", "1")}
    conn.request("REPORT", url.path, body=req["body"].encode(), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 207:
        print(json.dumps({"status": resp.status, "body": data.decode("utf-8", "replace")}))
        return
    root = ET.fromstring(data)
    out = []
    for r in root.findall(D + "response"):
        href = r.findtext(D + "href")
        status = r.findtext(D + "status")
        props = {}
        for ps in r.findall(D + "propstat"):
            code = ps.findtext(D + "status")
            for p in ps.find(D + "prop"):
                props[p.tag] = {"status": code, "text": p.text or ""}
        out.append({"href": href, "status": status, "props": props})
    print(json.dumps({"status": 207, "responses": out}))


main()
