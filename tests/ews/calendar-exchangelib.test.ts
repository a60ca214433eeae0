/**
 * exchangelib (Debian's python3-exchangelib) against the EWS calendar:
 * tests/ews/exchangelib/suite_calendar.py (not calendar.py: that name would shadow Python's own calendar module), one bun test per scenario.
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: calendar",
  script: "suite_calendar.py",
  scenarios: ["cal_weekly_recurrence", "cal_daily_until", "cal_timezone_and_all_day", "cal_meeting_accept_decline_cancel", "cal_free_busy"],
});
