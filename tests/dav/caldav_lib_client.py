"""python3-caldav (Debian) against Pillarbox for the report tests: a
free-busy-query (RFC 4791 §7.10), a date search with server-side expansion
(§9.6.5) and the pending to-dos search, printed as JSON for the test to
check.

    /usr/bin/python3 caldav_lib_client.py URL USER PASSWORD CALENDAR_URL TASKS_URL
"""
import json
import sys
from datetime import datetime, timezone

import caldav
import urllib3

urllib3.disable_warnings()


def main() -> None:
    url, user, password, cal_url, tasks_url = sys.argv[1:6]
    client = caldav.DAVClient(url=url, username=user, password=password, ssl_verify_cert=False)
    cal = caldav.Calendar(client=client, url=cal_url)
    tasks = caldav.Calendar(client=client, url=tasks_url)
    out = {}

    fb = cal.freebusy_request(datetime(2026, 3, 2, tzinfo=timezone.utc), datetime(2026, 3, 3, tzinfo=timezone.utc))
    out["freebusy"] = fb.data

    events = cal.date_search(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc), expand=True)
    expanded = []
    for e in events:
        for v in e.icalendar_instance.walk("VEVENT"):
            rid = v.get("RECURRENCE-ID")
            expanded.append((str(rid.dt) if rid else "-") + " " + str(v.get("SUMMARY")))
    out["expanded"] = sorted(expanded)

    out["todos"] = sorted(str(t.icalendar_instance.walk("VTODO")[0].get("UID")) for t in tasks.todos())
    print(json.dumps(out))


main()
