/**
 * The groupware core (issue 15): `createGroupware` builds the service every
 * protocol uses (ctx.groupware); the formats, scheduling and the global
 * address list live beside it (ical/, vcard/, scheduling/, directory.ts).
 */
import type { MailStore } from "../../storage/api.ts";
import { GroupwareService, type GroupwareLimits, type GroupwareOptions } from "./service.ts";
import type { Groupware, Scheduler } from "./types.ts";
import type { Logger } from "../log.ts";

export * from "./types.ts";
export { GroupwareService, type GroupwareLimits, type GroupwareOptions } from "./service.ts";
export { directory, directoryEntry, matchDirectory, type DirectoryEntry } from "./directory.ts";
export { isReservedName, DEFAULT_NAMES, PILLARBOX_PROPSET } from "./collections.ts";
export { etagOf, MAX_OBJECT_BYTES } from "./objects.ts";
export { mergeBusy, busyType } from "./freebusy.ts";

/** The groupware service over a store. The scheduler may be installed later with `setScheduler`. */
export function createGroupware(store: MailStore, opts: { log: Logger; scheduler?: Scheduler; limits?: GroupwareLimits }): Groupware & GroupwareService {
  const o: GroupwareOptions = { log: opts.log, scheduler: opts.scheduler, limits: opts.limits };
  return new GroupwareService(store, o);
}
