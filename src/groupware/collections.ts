/**
 * Collections: the calendars, task lists and address books of an account,
 * i.e. its folders of class calendar, tasks and contacts. A collection's
 * `name` is its folder name and the last segment of its CalDAV/CardDAV URL;
 * what users see (display name, description, colour, order, time zone) are
 * typed folder properties, named properties of one Pillarbox property set
 * (storage/item-properties.ts), so a home listing is one query with them.
 *
 * Names are one space for the three kinds (a calendar and a task list live
 * under the same /dav/calendars/<user>/ URL, RFC 4791 §4.2), and `inbox`,
 * `outbox` and `directory` are reserved (RFC 6638 schedule inbox/outbox, the
 * global address book): refused here and hidden from listings, since the
 * scheduling code keeps the schedule inbox as a calendar folder "inbox".
 */
import ICAL from "ical.js";
import { StoreError, type Account, type FolderWithProperties, type ItemClass, type ItemProperty, type MailStore, type PropertyKey } from "../../storage/api.ts";
import { DEFAULT_GROUPWARE_FOLDERS } from "../../storage/directory.ts";
import { GroupwareError, type Collection, type CollectionKind, type CollectionProps } from "./types.ts";

/** The property set of Pillarbox's own folder properties (a fixed GUID, [MS-OXCDATA] §2.6.1 style). */
export const PILLARBOX_PROPSET = "6f0b3a52-9c1e-4d7a-8e25-3b1f0c9d4a61";

export const KINDS: readonly CollectionKind[] = ["calendar", "tasks", "contacts"];
const CLASSES: readonly ItemClass[] = KINDS;

/** The default collection of each kind (storage creates them with every new account; its notes folder is no collection). */
export const DEFAULT_NAMES: Readonly<Record<CollectionKind, string>> = Object.fromEntries(
  DEFAULT_GROUPWARE_FOLDERS.filter(([, c]) => CLASSES.includes(c)).map(([name, c]) => [c, name]),
) as Record<CollectionKind, string>;

const RESERVED = new Set(["inbox", "outbox", "directory"]);

/** RFC 6638 schedule inbox/outbox and the directory book: no collection may be called so (case-insensitive). */
export function isReservedName(name: string): boolean {
  return RESERVED.has(name.toLowerCase());
}

/** Most collections an account may have (a bound on what one client can create). */
export const MAX_COLLECTIONS = 500;

const key = (name: string): PropertyKey => ({ set: PILLARBOX_PROPSET, name });
const KEYS = { displayName: key("displayName"), description: key("description"), color: key("color"), order: key("order"), timezone: key("timezone") } as const;

/** A collection of a folder with its properties; null for a folder that is not one (mail, notes, reserved, nested). */
export function toCollection(fw: FolderWithProperties): Collection | null {
  const f = fw.folder;
  if (!CLASSES.includes(f.itemClass) || isReservedName(f.name) || f.name.includes("/")) return null;
  const kind = f.itemClass as CollectionKind;
  const prop = (name: string): ItemProperty | undefined => fw.properties.find((p) => "name" in p.key && p.key.name === name && p.key.set === PILLARBOX_PROPSET);
  const str = (name: string): string => {
    const p = prop(name);
    return p && p.type === "string" && !p.multi ? p.value : "";
  };
  const order = prop("order");
  return {
    id: f.id,
    accountId: f.accountId,
    kind,
    name: f.name,
    displayName: str("displayName") || f.name,
    description: str("description"),
    color: str("color"),
    order: order && order.type === "int" && !order.multi ? order.value : 0,
    modseq: f.highestModseq,
    timezone: str("timezone"),
    isDefault: DEFAULT_NAMES[kind] === f.name,
  };
}

function checkName(name: unknown): string {
  // the URL segment: no '/', no control characters, not "." or ".." (storage refuses control characters too)
  if (typeof name !== "string" || name.length === 0 || name.length > 255 || name === "." || name === ".." || /[/\x00-\x1f\x7f*%]/.test(name) || name.trim() !== name) {
    throw new GroupwareError("FORBIDDEN", "a collection name is 1-255 characters without '/', '%', '*', control characters or surrounding spaces");
  }
  if (isReservedName(name)) throw new GroupwareError("FORBIDDEN", `"${name}" is a reserved name (schedule inbox/outbox, directory)`);
  return name;
}

/** A VTIMEZONE as CalDAV's calendar-timezone carries it: an iCalendar object with one VTIMEZONE (RFC 4791 §5.2.2). */
function checkTimezone(text: string): void {
  let ok = false;
  try {
    const root = new ICAL.Component(ICAL.parse(text) as unknown[]);
    ok = root.name === "vcalendar" && root.getAllSubcomponents("vtimezone").length === 1 && !!root.getFirstSubcomponent("vtimezone")?.getFirstPropertyValue("tzid");
  } catch {
    ok = false;
  }
  if (!ok) throw new GroupwareError("INVALID_DATA", "calendar-timezone must be an iCalendar object with one VTIMEZONE (RFC 4791 §5.2.2)");
}

/** The properties to set and the keys to delete ("" clears a text property, 0 the order). */
export function propsToWrite(props: CollectionProps): { set: ItemProperty[]; clear: PropertyKey[] } {
  const set: ItemProperty[] = [];
  const clear: PropertyKey[] = [];
  const text = (k: keyof typeof KEYS, v: unknown, max: number) => {
    if (v === undefined) return;
    if (typeof v !== "string" || v.length > max) throw new GroupwareError("INVALID_DATA", `${k} must be text of at most ${max} characters`);
    if (v === "") clear.push(KEYS[k]);
    else set.push({ key: KEYS[k], type: "string", value: v });
  };
  text("displayName", props.displayName, 1024);
  text("description", props.description, 64 * 1024);
  if (props.color !== undefined && props.color !== "" && !/^#[0-9a-f]{6}([0-9a-f]{2})?$/i.test(String(props.color))) {
    throw new GroupwareError("INVALID_DATA", "color must be #RRGGBB or #RRGGBBAA");
  }
  text("color", props.color, 9);
  if (props.timezone !== undefined && props.timezone !== "") {
    if (typeof props.timezone !== "string" || props.timezone.length > 256 * 1024) throw new GroupwareError("INVALID_DATA", "calendar-timezone is at most 256 KiB");
    checkTimezone(props.timezone);
  }
  text("timezone", props.timezone, 256 * 1024);
  if (props.order !== undefined) {
    if (!Number.isSafeInteger(props.order)) throw new GroupwareError("INVALID_DATA", "order must be an integer");
    if (props.order === 0) clear.push(KEYS.order);
    else set.push({ key: KEYS.order, type: "int", value: props.order });
  }
  return { set, clear };
}

/** A store error as the groupware error protocols map (NONEXISTENT -> NOT_FOUND, ...). */
export function fromStoreError(e: unknown): unknown {
  if (!(e instanceof StoreError)) return e;
  switch (e.code) {
    case "NONEXISTENT":
      return new GroupwareError("NOT_FOUND", e.message);
    case "ALREADYEXISTS":
      return new GroupwareError("EXISTS", e.message);
    case "LIMIT":
      return new GroupwareError("LIMIT", e.message);
    case "INVALID":
      return new GroupwareError("INVALID_DATA", e.message);
    default:
      return new GroupwareError("FORBIDDEN", e.message);
  }
}

/** Collections over the store: listing, lookup, create/update/delete, and the per-account defaults. */
export class Collections {
  /** Accounts whose defaults were seen to exist in this process: later calls cost nothing. */
  private readonly ensured = new Set<number>();
  private readonly ensuring = new Map<number, Promise<void>>();

  constructor(private readonly store: MailStore) {}

  private async all(accountId: number): Promise<Collection[]> {
    const rows = await this.store.listFoldersWithProperties(accountId, { itemClasses: CLASSES, propertySet: PILLARBOX_PROPSET });
    const out: Collection[] = [];
    for (const r of rows) {
      const c = toCollection(r);
      if (c) out.push(c);
    }
    return out;
  }

  async list(account: Account, kind?: CollectionKind): Promise<Collection[]> {
    const all = await this.all(account.id);
    const list = kind ? all.filter((c) => c.kind === kind) : all;
    // the defaults first, then by order and display name (what clients show when they do not sort)
    return list.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.order - b.order || a.displayName.localeCompare(b.displayName) || a.id - b.id);
  }

  async get(account: Account, name: string): Promise<Collection | null> {
    if (typeof name !== "string" || name === "" || isReservedName(name)) return null;
    return (await this.all(account.id)).find((c) => c.name === name) ?? null;
  }

  async byFolderId(accountId: number, folderId: number): Promise<Collection | null> {
    return (await this.all(accountId)).find((c) => c.id === folderId) ?? null;
  }

  /**
   * Creates the missing defaults (a kind with no collection at all). One
   * query when they exist; concurrent first requests (this process: one
   * shared promise; other processes: the store's unique folder name) create
   * each once.
   */
  ensureDefaults(account: Account): Promise<void> {
    if (this.ensured.has(account.id)) return Promise.resolve();
    let p = this.ensuring.get(account.id);
    if (!p) {
      p = this.createDefaults(account).finally(() => this.ensuring.delete(account.id));
      this.ensuring.set(account.id, p);
    }
    return p;
  }

  private async createDefaults(account: Account): Promise<void> {
    const have = new Set((await this.all(account.id)).map((c) => c.kind));
    for (const kind of KINDS) {
      if (have.has(kind)) continue;
      try {
        await this.store.createFolder(account.id, DEFAULT_NAMES[kind], { itemClass: kind });
      } catch (e) {
        // created meanwhile by another process (or request): that is the default now
        if (!(e instanceof StoreError && e.code === "ALREADYEXISTS")) throw fromStoreError(e);
      }
    }
    this.ensured.add(account.id);
  }

  /** Forget what ensureDefaults learnt about an account (its folders were changed behind the service's back). */
  forget(accountId: number): void {
    this.ensured.delete(accountId);
  }

  async create(account: Account, kind: CollectionKind, name: string, props: CollectionProps = {}): Promise<Collection> {
    if (!KINDS.includes(kind)) throw new GroupwareError("FORBIDDEN", `unknown collection kind ${String(kind)}`);
    checkName(name);
    const w = propsToWrite(props);
    const all = await this.all(account.id);
    // one name space for the three kinds: they share the URL space of a home (RFC 4791 §4.2 for calendars and task lists)
    if (all.some((c) => c.name === name)) throw new GroupwareError("EXISTS", `a collection named ${name} exists`);
    if (all.length >= MAX_COLLECTIONS) throw new GroupwareError("LIMIT", `an account has at most ${MAX_COLLECTIONS} collections`);
    for (const other of KINDS) {
      if (other !== kind && (await this.store.getFolder(account.id, name, other))) throw new GroupwareError("EXISTS", `a collection named ${name} exists`);
    }
    let folderId: number;
    try {
      folderId = (await this.store.createFolder(account.id, name, { itemClass: kind })).id;
    } catch (e) {
      throw fromStoreError(e);
    }
    if (w.set.length) await this.store.setProperties({ folderId }, w.set);
    const c = await this.byFolderId(account.id, folderId);
    if (!c) throw new GroupwareError("NOT_FOUND", "the collection was deleted while it was created");
    return c;
  }

  async update(account: Account, name: string, props: CollectionProps): Promise<Collection> {
    const c = await this.get(account, name);
    if (!c) throw new GroupwareError("NOT_FOUND", `no collection ${name}`);
    const w = propsToWrite(props);
    try {
      if (w.set.length) await this.store.setProperties({ folderId: c.id }, w.set);
      if (w.clear.length) await this.store.deleteProperties({ folderId: c.id }, w.clear);
    } catch (e) {
      throw fromStoreError(e);
    }
    return (await this.byFolderId(account.id, c.id)) ?? c;
  }

  async delete(account: Account, name: string): Promise<void> {
    const c = await this.get(account, name);
    if (!c) throw new GroupwareError("NOT_FOUND", `no collection ${name}`);
    if (c.isDefault) throw new GroupwareError("FORBIDDEN", `${c.displayName} is the default ${c.kind === "contacts" ? "address book" : c.kind === "tasks" ? "task list" : "calendar"} and cannot be deleted`);
    try {
      await this.store.deleteFolder(account.id, name, { itemClass: c.kind });
    } catch (e) {
      throw fromStoreError(e);
    }
  }
}
