/**
 * In-memory stand-ins for Thunderbird's calendar and address book APIs
 * (`messenger.calendar.*`, `messenger.addressBooks/contacts/mailingLists`),
 * with the events Thunderbird fires, and what a user's edit in Thunderbird
 * does (the calendar provider hooks first, then the store). None of it is
 * the add-on's code.
 */
import { randomUUID } from "node:crypto";
import { withZones, VTIMEZONES } from "./zones.mjs";

/** Listener lists, like WebExtension events. */
export function event() {
  const fns = [];
  return {
    fns,
    addListener(fn) {
      fns.push(fn);
    },
    removeListener(fn) {
      const i = fns.indexOf(fn);
      if (i >= 0) fns.splice(i, 1);
    },
    hasListener(fn) {
      return fns.includes(fn);
    },
    async fire(...args) {
      for (const fn of [...fns]) await fn(...args);
    },
  };
}

function icalUid(ical) {
  const m = /^UID:(.*)$/m.exec(String(ical).replace(/\r\n[ \t]/g, ""));
  return m ? m[1].trim() : null;
}

function vcardUid(vcard) {
  const m = /^UID[;:](?:[^:\r\n]*:)?(.*)$/im.exec(String(vcard).replace(/\r\n[ \t]/g, ""));
  return m ? m[1].trim() : null;
}

/** In-memory Thunderbird calendars. Items are iCal strings keyed by id. */
export class Calendars {
  cals = new Map(); // id -> { props, items: Map<id, {id,type,item}> }
  provider = {
    onItemCreated: event(),
    onItemUpdated: event(),
    onItemRemoved: event(),
    onSync: event(),
    onResetSync: event(),
    onFreeBusy: event(),
  };
  base(id) {
    return String(id).replace(/#cache$/, "");
  }
  cal(id) {
    const c = this.cals.get(this.base(id));
    if (!c) throw new Error(`unknown calendar ${id}: not found`);
    return c;
  }
  api() {
    const self = this;
    // Thunderbird serializes an item with a VTIMEZONE for every zone it
    // references, whatever the writer put in; reads here do the same.
    const node = (calendarId, it) => ({ id: it.id, calendarId: self.base(calendarId), type: it.type, format: "ical", item: withZones(it.item) });
    return {
      calendars: {
        async create(props) {
          const id = randomUUID();
          self.cals.set(id, { props: { ...props, id }, items: new Map() });
          return { ...props, id };
        },
        async get(id) {
          const c = self.cals.get(self.base(id));
          return c ? { ...c.props } : null;
        },
        async query() {
          return [...self.cals.values()].map((c) => ({ ...c.props }));
        },
        async update(id, props) {
          const c = self.cal(id);
          c.props = { ...c.props, ...props, capabilities: { ...(c.props.capabilities ?? {}), ...(props.capabilities ?? {}) } };
          return { ...c.props };
        },
        async remove(id) {
          self.cals.delete(self.base(id));
        },
        async clearCache() {},
        async synchronize() {},
        onCreated: event(),
        onUpdated: event(),
        onRemoved: event(),
      },
      items: {
        async query({ calendarId, type } = {}) {
          const c = self.cal(calendarId);
          return [...c.items.values()].filter((it) => !type || it.type === type).map((it) => node(calendarId, it));
        },
        async get(calendarId, id) {
          const it = self.cal(calendarId).items.get(id);
          return it ? node(calendarId, it) : null;
        },
        async create(calendarId, { id, type, item }) {
          const c = self.cal(calendarId);
          const itemId = id ?? icalUid(item) ?? randomUUID();
          if (c.items.has(itemId)) throw new Error(`Duplicate item id ${itemId}`);
          const it = { id: itemId, type: type ?? (/BEGIN:VTODO/.test(item) ? "task" : "event"), item };
          c.items.set(itemId, it);
          return node(calendarId, it);
        },
        async update(calendarId, id, { item }) {
          const c = self.cal(calendarId);
          const it = c.items.get(id);
          if (!it) throw new Error(`item ${id} not found`);
          it.item = item;
          return node(calendarId, it);
        },
        async remove(calendarId, id) {
          const c = self.cal(calendarId);
          if (!c.items.delete(id)) throw new Error(`item ${id} not found`);
        },
        onCreated: event(),
        onUpdated: event(),
        onRemoved: event(),
      },
      timezones: {
        currentZone: "Europe/Berlin",
        timezoneIds: ["UTC", ...Object.keys(VTIMEZONES)],
        async getDefinition(tzid) {
          return VTIMEZONES[tzid] ?? null;
        },
      },
      provider: this.provider,
    };
  }
  /** The user saving a new item in Thunderbird: the provider hook first
   *  (it files the edit and may hand back different props), then the store. */
  async userCreate(calendarId, { type, item }) {
    let props = { type, format: "ical", item };
    for (const fn of this.provider.onItemCreated.fns) {
      const r = await fn({ id: calendarId, ...this.cal(calendarId).props }, props, {});
      if (r?.item && typeof r.item === "object") props = { ...props, ...r.item };
      else if (r && typeof r.item === "string") props = { ...props, ...r };
    }
    const id = props.id ?? icalUid(props.item);
    this.cal(calendarId).items.set(id, { id, type, item: props.item });
    return id;
  }
  async userUpdate(calendarId, id, item) {
    const c = this.cal(calendarId);
    const old = c.items.get(id);
    let props = { id, type: old.type, format: "ical", item };
    for (const fn of this.provider.onItemUpdated.fns) {
      const r = await fn({ id: calendarId, ...c.props }, props, { ...old }, {});
      if (r?.item && typeof r.item === "object") props = { ...props, ...r.item };
      else if (r && typeof r.item === "string") props = { ...props, ...r };
    }
    c.items.set(id, { id, type: old.type, item: props.item });
  }
  async userRemove(calendarId, id) {
    const c = this.cal(calendarId);
    const old = c.items.get(id);
    for (const fn of this.provider.onItemRemoved.fns) await fn({ id: calendarId, ...c.props }, { ...old }, {});
    c.items.delete(id);
  }
  items(calendarId) {
    return [...this.cal(calendarId).items.values()].map((it) => ({ ...it, item: withZones(it.item) }));
  }
}

/** In-memory Thunderbird address books. Every write fires the contacts
 *  events afterwards, as Thunderbird does (the add-on tells its own writes
 *  from the user's by pre-tags). */
export class AddressBooks {
  books = new Map(); // id -> { name, contacts: Map<id, vCard> }
  contactsEv = { onCreated: event(), onUpdated: event(), onDeleted: event() };
  listsEv = { onCreated: event(), onUpdated: event(), onDeleted: event(), onMemberAdded: event(), onMemberRemoved: event() };
  booksEv = { onCreated: event(), onUpdated: event(), onDeleted: event() };
  pending = [];
  owner(contactId) {
    for (const [bookId, b] of this.books) if (b.contacts.has(contactId)) return bookId;
    return null;
  }
  nf(kind, id) {
    return new Error(`${kind} with id=${id} could not be found.`);
  }
  later(p) {
    // Thunderbird notifies listeners after the write has returned.
    const done = new Promise((r) => setTimeout(r, 0)).then(p);
    this.pending.push(done.catch(() => {}));
  }
  async settle() {
    while (this.pending.length) await Promise.all(this.pending.splice(0));
  }
  node(contactId) {
    const parentId = this.owner(contactId);
    return { id: contactId, parentId, type: "contact", readOnly: false, remote: false, properties: { vCard: this.books.get(parentId).contacts.get(contactId) } };
  }
  api() {
    const self = this;
    return {
      addressBooks: {
        async create({ name }) {
          const id = randomUUID();
          self.books.set(id, { name, contacts: new Map() });
          return id;
        },
        async get(id) {
          const b = self.books.get(id);
          if (!b) throw self.nf("addressBook", id);
          return { id, name: b.name, type: "addressBook", readOnly: false, remote: false };
        },
        async list() {
          return [...self.books].map(([id, b]) => ({ id, name: b.name, type: "addressBook" }));
        },
        async delete(id) {
          if (!self.books.delete(id)) throw self.nf("addressBook", id);
        },
        async update() {},
        ...self.booksEv,
        provider: { onSearchRequest: event() },
      },
      contacts: {
        async list(bookId) {
          const b = self.books.get(bookId);
          if (!b) throw self.nf("addressBook", bookId);
          return [...b.contacts.keys()].map((id) => self.node(id));
        },
        async get(id) {
          if (!self.owner(id)) throw self.nf("contact", id);
          return self.node(id);
        },
        async create(bookId, a, b) {
          const props = typeof a === "string" ? b : a;
          const vCard = props?.vCard;
          const book = self.books.get(bookId);
          if (!book) throw self.nf("addressBook", bookId);
          const id = vcardUid(vCard) ?? (typeof a === "string" ? a : randomUUID());
          if (self.owner(id)) throw new Error(`Duplicate contact id ${id}`);
          book.contacts.set(id, vCard);
          self.later(() => self.contactsEv.onCreated.fire(self.node(id)));
          return id;
        },
        async update(id, { vCard }) {
          const bookId = self.owner(id);
          if (!bookId) throw self.nf("contact", id);
          self.books.get(bookId).contacts.set(id, vCard);
          self.later(() => self.contactsEv.onUpdated.fire(self.node(id), {}));
        },
        async delete(id) {
          const bookId = self.owner(id);
          if (!bookId) throw self.nf("contact", id);
          self.books.get(bookId).contacts.delete(id);
          self.later(() => self.contactsEv.onDeleted.fire(bookId, id));
        },
        ...self.contactsEv,
      },
      mailingLists: {
        async list() {
          return [];
        },
        async get(id) {
          throw self.nf("mailingList", id);
        },
        async create() {
          throw new Error("mailing lists are not part of this run");
        },
        async update() {},
        async delete() {},
        async listMembers() {
          return [];
        },
        async addMember() {},
        async removeMember() {},
        ...self.listsEv,
      },
    };
  }
  contacts(bookId) {
    return [...this.books.get(bookId).contacts].map(([id, vCard]) => ({ id, vCard }));
  }
}

