/**
 * Scheduling (RFC 6638 implicit scheduling, iTIP RFC 5546 over iMIP RFC 6047).
 *
 * Design: every scheduling message travels as iMIP mail through the one
 * submit path (`ctx.submit`), to local attendees too, and every incoming one
 * (from SMTP or from a local user) is applied by ONE delivery hook. A local
 * invitation thus lands in the attendee's inbox as a message and in their
 * calendar, and a remote one takes exactly the same way.
 *
 *  - `createScheduler` implements the service's `Scheduler`: after a CalDAV
 *    write (./outgoing.ts plans REQUEST/CANCEL/REPLY), it builds the iMIP
 *    messages (./imip.ts) and submits them as the writer.
 *  - `itipDeliveryHook` is registered in ctx.deliveryHooks (src/server.ts):
 *    for each account that got a message, ./incoming.ts applies it.
 *
 * SCHEDULE-STATUS (RFC 6638 §3.2.9) is not written back into the
 * organizer's copy after sending: that would be a second write of the object
 * the client just wrote (a new ETag the client did not expect, and a
 * schedule-on-write that must not trigger again). What an organizer sees
 * instead is each attendee's PARTSTAT, updated when their REPLY arrives.
 */
import type ICAL from "ical.js";
import type { Account, MailStore } from "../../../storage/api.ts";
import type { DeliveryHook } from "../../context.ts";
import type { Logger } from "../../log.ts";
import type { SubmitFn } from "../../delivery/submit.ts";
import { SubmitError } from "../../delivery/submit.ts";
import { parseCalendarObject, serialize, type CalendarObject } from "../ical/index.ts";
import type { Collection, Groupware, Scheduler } from "../types.ts";
import { buildImipMessage, type EventSummary } from "./imip.ts";
import { processIncoming, type IncomingDeps } from "./incoming.ts";
import { planChange, type PlannedMessage } from "./outgoing.ts";
import { attendeesOfComponent, calAddress, instanceKey, schedulingComponents } from "./itip.ts";
import type { RemoteAuthPolicy } from "./sender-auth.ts";

export { processIncoming } from "./incoming.ts";
export { planChange } from "./outgoing.ts";
export { checkSender, type RemoteAuthPolicy } from "./sender-auth.ts";
export { fileInInbox, listInbox, scheduleInboxFolder, INBOX_NAME, MAX_INBOX_ITEMS } from "./inbox.ts";

export interface SchedulerDeps {
  store: Pick<MailStore, "sendAsAddresses">;
  /** Read at each send: the server sets ctx.submit after building the context. */
  submit: () => SubmitFn;
  log: Logger;
  now?: () => number;
}

function parse(body: Uint8Array | null): CalendarObject | null {
  return body ? parseCalendarObject(body) : null;
}

/** What the text part and subject say, from the object's master (or first) component. */
export function eventSummary(obj: CalendarObject | null, root: ICAL.Component): EventSummary {
  const comps = schedulingComponents(root);
  const master = comps.find((c) => instanceKey(c) === "") ?? comps[0];
  const dtstart = master?.getFirstProperty("dtstart");
  const tz = dtstart?.getFirstParameter("tzid");
  const organizer = master?.getFirstProperty("organizer");
  const cn = organizer?.getFirstParameter("cn");
  const fields = obj?.calendarFields;
  return {
    summary: String(master?.getFirstPropertyValue("summary") ?? ""),
    start: fields?.dtStart ?? obj?.taskFields?.due ?? null,
    end: fields?.dtEnd ?? null,
    allDay: fields?.allDay ?? false,
    timeZone: typeof tz === "string" ? tz : null,
    location: String(master?.getFirstPropertyValue("location") ?? ""),
    organizer: organizer ? { name: typeof cn === "string" ? cn : "", address: calAddress(organizer.getFirstValue()) } : null,
    attendees: master ? [...attendeesOfComponent(master).values()].map((a) => ({ name: a.name, address: a.address, partstat: a.partstat })) : [],
  };
}

/** Sends one planned message as `actor`: all recipients in one submission, or one each when a recipient is refused. */
async function send(deps: SchedulerDeps, actor: Account, plan: PlannedMessage, obj: CalendarObject | null): Promise<void> {
  const now = deps.now?.() ?? Date.now();
  const calendar = serialize(plan.calendar);
  const name = actor.settings.displayName ?? "";
  const message = (to: PlannedMessage["to"]) =>
    buildImipMessage({
      method: plan.method,
      from: { name, address: plan.from },
      to: to.map((t) => ({ name: t.name, address: t.address })),
      calendar,
      event: eventSummary(obj, plan.source),
      partstat: plan.partstat,
      update: plan.update,
      now,
    });
  const submit = deps.submit();
  const one = async (to: PlannedMessage["to"]) => submit({ account: actor, envelopeFrom: plan.from, recipients: to.map((t) => t.address), raw: message(to), saveToSent: false });
  try {
    await one(plan.to);
  } catch (e) {
    // An unknown local address refuses the whole submission before anything is committed: send to the others one by one.
    if (!(e instanceof SubmitError) || e.code !== "RECIPIENT" || plan.to.length < 2) throw e;
    for (const r of plan.to) {
      try {
        await one([r]);
      } catch (err) {
        deps.log.info("iMIP: a recipient was refused", { method: plan.method, to: r.address, error: (err as Error).message });
      }
    }
  }
  deps.log.info("iMIP sent", { method: plan.method, from: plan.from, to: plan.to.length });
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  return {
    async afterChange(actor: Account, collection: Collection, before: Uint8Array | null, after: Uint8Array | null): Promise<void> {
      if (collection.kind === "contacts") return;
      try {
        let b: CalendarObject | null;
        let a: CalendarObject | null;
        try {
          b = parse(before);
          a = parse(after);
        } catch (e) {
          deps.log.info("scheduling skipped: object not parseable", { account: actor.email, error: (e as Error).message });
          return;
        }
        const mine = new Set((await deps.store.sendAsAddresses(actor.id)).map((x) => x.toLowerCase()));
        mine.add(actor.email.toLowerCase());
        const plans = planChange(b?.root ?? null, a?.root ?? null, mine, deps.now?.() ?? Date.now());
        for (const plan of plans) {
          try {
            await send(deps, actor, plan, plan.source === a?.root ? a : b);
          } catch (e) {
            deps.log.warn("iMIP send failed", { method: plan.method, account: actor.email, error: (e as Error).message });
          }
        }
      } catch (e) {
        deps.log.warn("scheduling failed", { account: actor.email, error: (e as Error).message });
      }
    },
  };
}

export interface ItipHookDeps extends Omit<IncomingDeps, "groupware"> {
  /** Read at each delivery: the groupware service may be created after the hook is registered. */
  groupware: () => Groupware | undefined;
  remoteAuth?: RemoteAuthPolicy;
}

/**
 * The delivery hook: after a message is committed to local INBOXes (never
 * for Junk), each account's copy is looked at for an iTIP part and applied.
 * Runs off the delivery's reply path; outcomes other than "no calendar part"
 * are logged at info.
 */
export function itipDeliveryHook(deps: ItipHookDeps): DeliveryHook {
  // Messages of one account are applied one after the other, in delivery order: a CANCEL that
  // follows its REQUEST closely must not run before the REQUEST created the event.
  const chains = new Map<number, Promise<void>>();
  return (d) => {
    const groupware = deps.groupware();
    if (!groupware) return;
    for (const accountId of d.accountIds) {
      const run = async () => {
        try {
          const out = await processIncoming({ ...deps, groupware }, { accountId, raw: d.raw, origin: d.origin });
          if (out.applied) deps.log.info("iMIP applied", { accountId, action: out.action });
          else if (out.calendar) deps.log.info("iMIP message not applied", { accountId, from: d.envelopeFrom, reason: out.reason });
        } catch (err) {
          deps.log.warn("iMIP processing failed", { accountId, error: err instanceof Error ? err.message : String(err) });
        }
      };
      const next = (chains.get(accountId) ?? Promise.resolve()).then(run);
      chains.set(accountId, next);
      // The map holds only accounts with work in flight.
      void next.then(() => {
        if (chains.get(accountId) === next) chains.delete(accountId);
      });
    }
  };
}
