/**
 * Shared pieces of the calendar, task and collection routes: the signed-in
 * account's own collections (another user's name is a 404, never theirs),
 * the user's zone and addresses, and groupware/model errors in words.
 */
import ICAL from "ical.js";
import type { ServerContext } from "../../../src/context.ts";
import type { Account } from "../../../storage/api.ts";
import { GroupwareError, type Collection, type CollectionKind, type StoredObject } from "../../../src/groupware/types.ts";
import { ModelError } from "../../../src/groupware/model/time.ts";
import { AnswerError } from "../../../src/groupware/scheduling/answer.ts";
import { ICalError } from "../../../src/groupware/ical/index.ts";
import { parseRoot } from "../../../src/groupware/ical/parse.ts";
import { resolveZones } from "../../../src/groupware/ical/zones.ts";
import { isTimeZone } from "./settings-api.ts";
import { ApiError } from "./util.ts";

/** The zone the user sees times in: their setting, else the server's. */
export function userZoneOf(account: Account): string {
  const z = account.settings.timeZone;
  if (typeof z === "string" && z && isTimeZone(z)) return z;
  const server = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return server && isTimeZone(server) ? server : "UTC";
}

/** The account's addresses (its own and those it may send as), lower case. */
export async function addressesOf(ctx: ServerContext, account: Account): Promise<Set<string>> {
  const out = new Set((await ctx.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()));
  out.add(account.email.toLowerCase());
  return out;
}

/** A collection of the account by name and kind; 404 when it is not theirs or not of that kind. */
export async function ownCollection(ctx: ServerContext, account: Account, name: string, kind: CollectionKind): Promise<Collection> {
  await ctx.groupware.ensureDefaults(account);
  const c = name ? await ctx.groupware.getCollection(account, name) : null;
  if (!c || c.kind !== kind || c.accountId !== account.id) {
    throw new ApiError(404, "not_found", kind === "calendar" ? "That calendar does not exist." : kind === "tasks" ? "That task list does not exist." : "That address book does not exist.");
  }
  return c;
}

export async function ownObject(ctx: ServerContext, collection: Collection, id: string): Promise<StoredObject> {
  const o = id ? await ctx.groupware.getObject(collection, id) : null;
  if (!o) throw new ApiError(404, "not_found", "That item does not exist any more. It may have been deleted on another device.");
  return o;
}

export async function readRoot(ctx: ServerContext, object: StoredObject): Promise<ICAL.Component> {
  const body = await ctx.groupware.readBody(object);
  try {
    const root = parseRoot(body, []);
    // TZIDs the object names without defining (IANA or Windows names) resolve before any time is read.
    resolveZones(root, []);
    return root;
  } catch (e) {
    throw new ApiError(422, "unreadable", `The stored item cannot be read: ${(e as Error).message}`);
  }
}

/** 409 when the client's etag is not the stored one (someone changed it meanwhile). */
export function checkEtag(object: StoredObject, etag: unknown): void {
  if (etag === undefined || etag === null || etag === "") return;
  if (etag !== object.etag) throw new ApiError(409, "changed", "This item was changed elsewhere meanwhile. It has been reloaded: make your change again.");
}

/** Maps an error of the groupware or the model to a response in words; rethrows anything else. */
export function toGroupwareApiError(e: unknown): never {
  if (e instanceof ApiError) throw e;
  if (e instanceof ModelError) throw new ApiError(400, "bad_request", capital(e.message) + ".");
  if (e instanceof AnswerError) throw new ApiError(400, "cannot_answer", capital(e.message) + ".");
  if (e instanceof ICalError) throw new ApiError(400, "invalid_data", capital(e.message) + ".");
  if (e instanceof GroupwareError) {
    const map: Record<GroupwareError["code"], [number, string]> = {
      INVALID_DATA: [400, "invalid_data"],
      INVALID_OBJECT: [400, "invalid_object"],
      WRONG_COMPONENT: [400, "wrong_component"],
      UID_CONFLICT: [409, "uid_conflict"],
      PRECONDITION: [409, "changed"],
      NOT_FOUND: [404, "not_found"],
      EXISTS: [409, "exists"],
      FORBIDDEN: [403, "forbidden"],
      TOO_LARGE: [413, "too_large"],
      LIMIT: [400, "limit"],
      QUOTA: [507, "quota"],
      TOKEN_TOO_OLD: [400, "bad_request"],
    };
    const [status, code] = map[e.code];
    const msg =
      e.code === "PRECONDITION"
        ? "This item was changed elsewhere meanwhile. It has been reloaded: make your change again."
        : e.code === "UID_CONFLICT"
          ? "An item with the same UID is already there."
          : e.code === "QUOTA"
            ? "The mailbox is full. Delete something, then try again."
            : capital(e.message) + ".";
    throw new ApiError(status as 400, code, msg);
  }
  throw e;
}

function capital(s: string): string {
  const t = s.replace(/\.$/, "");
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Runs a route body, mapping groupware/model errors to ApiErrors. */
export async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    return toGroupwareApiError(e);
  }
}

/** An integer query parameter in ms, 400 otherwise. */
export function msParam(v: string | undefined, what: string): number {
  const n = v === undefined || v === "" ? Number.NaN : Number(v);
  if (!Number.isSafeInteger(n)) throw new ApiError(400, "bad_request", `${what} must be a time in milliseconds.`);
  return n;
}

/** A new resource name (RFC 4791 §5.3.2 leaves it to the client: a UUID, as most clients do). */
export function newResourceName(): string {
  return `${crypto.randomUUID()}.ics`;
}
