/**
 * RFC 5230 vacation (with RFC 6131 :seconds): the action's parameters as
 * the script gives them. Whether a reply is actually sent (the recipient is
 * one of the user's addresses in To/Cc/Bcc, not to lists or auto-submitted
 * mail, once per period and handle) is decided after delivery by the
 * delivery filter (src/delivery/vacation-reply.ts), which also builds the
 * reply (default subject, In-Reply-To/References, Auto-Submitted).
 */
import { createHash } from "node:crypto";
import { MISSING_DOMAIN, MISSING_MAILBOX, parseAddressList } from "../../mail/address.ts";
import type { SieveAction, SieveCommand } from "./types.ts";
import { RunState, SieveRuntimeError, strArg, tagList, tagNumber, tagString } from "./interpret-state.ts";

export type VacationAction = Extract<SieveAction, { type: "vacation" }>;

/** Pigeonhole's defaults when the limits say nothing: 1 day minimum, 90 days maximum, 7 days default. */
const MIN = 86_400;
const MAX = 90 * 86_400;
const DEFAULT = 7 * 86_400;

export function vacationAction(st: RunState, cmd: SieveCommand): VacationAction {
  const reason = strArg(st, cmd, 0);
  const min = st.limits.vacationMinSeconds ?? MIN;
  const max = Math.max(min, st.limits.vacationMaxSeconds ?? MAX);
  const days = tagNumber(cmd, "days");
  const seconds = tagNumber(cmd, "seconds");
  // RFC 5230 §4.1 / RFC 6131 §2: the period, clamped to the site's bounds (RFC 6131 §2 allows a site minimum)
  const asked = seconds ?? (days !== undefined ? days * 86_400 : (st.limits.vacationDefaultSeconds ?? DEFAULT));
  const periodSeconds = Math.min(max, Math.max(min, asked));
  const subject = tagString(st, cmd, "subject") ?? null;
  const from = tagString(st, cmd, "from") ?? null;
  if (from !== null && !oneMailbox(from)) {
    // RFC 5230 §4.3: :from must be a valid address; Pigeonhole stops the run with an error
    throw new SieveRuntimeError(cmd.line, `vacation: the :from address "${from.slice(0, 200)}" is not a valid address`);
  }
  const addresses = tagList(st, cmd, "addresses") ?? [];
  const mime = cmd.tags.mime === true;
  // RFC 5230 §4.2: without :handle, responses with the same reason, subject, from and mime share one
  const handle =
    tagString(st, cmd, "handle") ??
    createHash("sha256")
      .update(JSON.stringify(["vacation", reason, subject, from, mime]))
      .digest("hex");
  return { type: "vacation", periodSeconds, subject, from, addresses, mime, handle, reason };
}

/** Exactly one mailbox with a local part and a domain (a display name is allowed). */
function oneMailbox(s: string): boolean {
  const list = parseAddressList(s).filter((a) => a.host !== null || a.mailbox !== null);
  if (list.length !== 1) return false;
  const a = list[0];
  return a.mailbox !== null && a.host !== null && a.mailbox !== MISSING_MAILBOX && a.host !== MISSING_DOMAIN;
}
