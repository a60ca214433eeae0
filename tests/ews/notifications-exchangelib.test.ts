/**
 * exchangelib (Debian's python3-exchangelib) against notifications and
 * out-of-office: tests/ews/exchangelib/notify_oof.py, one bun test per
 * scenario (pull subscription + get_events, streaming subscription +
 * get_streaming_events, OofSettings Enabled/Scheduled/Disabled written and
 * read back).
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: notifications and out-of-office",
  script: "notify_oof.py",
  // The streaming scenario reads for ConnectionTimeout = 1 minute at most; its event is waiting when it connects.
  timeoutMs: 100_000,
  scenarios: ["pull_subscription", "streaming_subscription", "oof_enabled", "oof_scheduled", "oof_disabled"],
});
