/**
 * A small stand-in for what EAS-4-TbSync runs inside: Thunderbird's
 * `browser.*` / `messenger.*` WebExtension APIs (storage, i18n, calendars
 * and their items, address books and contacts with their events, time
 * zones) and the TbSync host that owns account and folder rows. All of it
 * lives in memory; none of it is the add-on's code.
 *
 *   installHostEnv({ srcDir, domain, httpsPort, httpPort, jsdomDir })
 *   attachHost(provider)        -> FakeHost (accounts, folders, event log)
 *   tb.userCreateItem(...) etc. -> what a user's edit in Thunderbird does
 *
 * The fetch wrapper sends every request for `domain` or a sub-domain to
 * the Pillarbox under test on localhost (its self-signed certificate is
 * trusted through NODE_EXTRA_CA_CERTS by the run script) and keeps a log
 * of requests for the report.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { randomUUID } from "node:crypto";

const FIXTURE = "webext-file:";

/** Time zone definitions Thunderbird would supply (the add-on maps EAS
 *  TIMEZONE blobs through them). Written here for the zones the run uses. */
export const VTIMEZONES = {
  "Europe/Berlin": [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
  ].join("\r\n"),
  "America/New_York": [
    "BEGIN:VTIMEZONE",
    "TZID:America/New_York",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "TZNAME:EDT",
    "DTSTART:19700308T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "TZNAME:EST",
    "DTSTART:19701101T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
  ].join("\r\n"),
  "Australia/Sydney": [
    "BEGIN:VTIMEZONE",
    "TZID:Australia/Sydney",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+1100",
    "TZOFFSETTO:+1000",
    "TZNAME:AEST",
    "DTSTART:19700405T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+1000",
    "TZOFFSETTO:+1100",
    "TZNAME:AEDT",
    "DTSTART:19701004T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
  ].join("\r\n"),
  "Asia/Kolkata": ["BEGIN:VTIMEZONE", "TZID:Asia/Kolkata", "BEGIN:STANDARD", "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "TZNAME:IST", "DTSTART:19700101T000000", "END:STANDARD", "END:VTIMEZONE"].join("\r\n"),
  "Europe/London": [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/London",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19700329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19701025T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
  ].join("\r\n"),
};

/** Listener lists, like WebExtension events. */
function event() {
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

export function withZones(ical) {
  const text = String(ical);
  const used = new Set([...text.matchAll(/;TZID=("?)([^;:"\r\n]+)\1[;:]/g)].map((m) => m[2]));
  const missing = [...used].filter((z) => VTIMEZONES[z] && !new RegExp(`^TZID:${z.replace(/[/]/g, "\\/")}\r?$`, "m").test(text));
  if (!missing.length) return text;
  return text.replace(/(BEGIN:VCALENDAR\r?\n(?:(?!BEGIN:)[^\n]*\n)*)/, (head) => head + missing.map((z) => VTIMEZONES[z] + "\r\n").join(""));
}

/** In-memory Thunderbird calendars. Items are iCal strings keyed by id. */
class Calendars {
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
class AddressBooks {
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

/** The TbSync host: owns account and folder rows, as its protocol says
 *  (UPDATE_ACCOUNT / UPDATE_FOLDER shallow-merge `custom`, PUSH_FOLDER_LIST
 *  replaces the list but keeps selection and bindings of known rows). */
export class FakeHost {
  accounts = new Map();
  log = [];
  syncStates = [];
  constructor(provider) {
    this.provider = provider;
    const h = this;
    Object.assign(provider, {
      getAccount: async (accountId) => {
        const a = h.accounts.get(accountId);
        return a ? structuredClone({ account: a.account, folders: a.folders }) : null;
      },
      listAccounts: async () => [...h.accounts.values()].map((a) => structuredClone(a.account)),
      updateAccount: async ({ accountId, patch }) => {
        const a = h.accounts.get(accountId);
        if (!a) throw new Error("unknown account");
        const { custom, ...top } = patch ?? {};
        Object.assign(a.account, top);
        if (custom) for (const [k, v] of Object.entries(custom)) v === null ? delete a.account.custom[k] : (a.account.custom[k] = structuredClone(v));
        return null;
      },
      updateFolder: async ({ accountId, folderId, patch }) => {
        const f = h.accounts.get(accountId)?.folders.find((x) => x.folderId === folderId);
        if (!f) throw new Error("unknown folder");
        const { custom, downloadOnly: _ignored, ...top } = patch ?? {};
        Object.assign(f, structuredClone(top));
        if (custom) for (const [k, v] of Object.entries(custom)) v === null ? delete f.custom[k] : (f.custom[k] = structuredClone(v));
        return null;
      },
      pushFolderList: async ({ accountId, folders }) => {
        const a = h.accounts.get(accountId);
        const prior = new Map(a.folders.map((f) => [f.folderId, f]));
        a.folders = folders.map((d) => {
          const p = prior.get(d.folderId) ?? {};
          return {
            accountId,
            selected: p.selected ?? false,
            downloadOnly: p.downloadOnly ?? false,
            readOnly: false,
            lastSyncTime: p.lastSyncTime ?? 0,
            targetID: p.targetID,
            targetName: p.targetName,
            sessionId: p.sessionId,
            ...structuredClone(d),
            custom: structuredClone(d.custom ?? p.custom ?? {}),
            hidden: d.hidden ?? false,
          };
        });
        h.pushed = structuredClone(a.folders);
        return null;
      },
      reportSyncState: (p) => h.syncStates.push(p),
      reportProgress: () => {},
      reportEventLog: (p) => h.log.push(p),
      reportOrphanedTargets: async () => null,
      folderTargetRemoved: async () => null,
      requestSync: async () => null,
      setProviderUpgradeLock: async () => null,
      legacyMigrationDone: async () => null,
    });
  }
  register(accountId, setup) {
    this.accounts.set(accountId, { account: { accountId, accountName: setup.accountName, provider: "eas", custom: structuredClone(setup.custom) }, folders: [] });
  }
  /** The user ticking a folder in the manager: selected, with a new binding. */
  select(accountId, folderId) {
    const f = this.accounts.get(accountId).folders.find((x) => x.folderId === folderId);
    f.selected = true;
    f.sessionId = randomUUID();
  }
  folders(accountId) {
    return this.accounts.get(accountId).folders;
  }
}

export function installHostEnv({ srcDir, domain, httpsPort, httpPort, jsdomDir }) {
  const require = createRequire(join(jsdomDir, "node_modules", "x.js"));
  const { JSDOM } = require("jsdom");
  const { window } = new JSDOM("");
  globalThis.DOMParser = window.DOMParser;
  globalThis.XMLSerializer = window.XMLSerializer;

  const messages = JSON.parse(readFileSync(join(srcDir, "_locales/en-US/messages.json"), "utf8"));
  const getMessage = (key, subs) => {
    const m = messages[key];
    if (!m) return key;
    const list = subs === undefined ? [] : Array.isArray(subs) ? subs : [subs];
    let s = m.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (_, name) => m.placeholders?.[name.toLowerCase()]?.content ?? "");
    s = s.replace(/\$(\d)/g, (_, n) => String(list[Number(n) - 1] ?? ""));
    return s;
  };

  const storage = new Map();
  const local = {
    async get(keys) {
      const out = {};
      if (keys === null || keys === undefined) for (const [k, v] of storage) out[k] = structuredClone(v);
      else if (typeof keys === "string") {
        if (storage.has(keys)) out[keys] = structuredClone(storage.get(keys));
      } else if (Array.isArray(keys)) {
        for (const k of keys) if (storage.has(k)) out[k] = structuredClone(storage.get(k));
      } else for (const [k, d] of Object.entries(keys)) out[k] = storage.has(k) ? structuredClone(storage.get(k)) : d;
      return out;
    },
    async set(obj) {
      for (const [k, v] of Object.entries(obj)) storage.set(k, structuredClone(v));
    },
    async remove(keys) {
      for (const k of Array.isArray(keys) ? keys : [keys]) storage.delete(k);
    },
    async clear() {
      storage.clear();
    },
  };

  const calendars = new Calendars();
  const books = new AddressBooks();
  const cal = calendars.api();
  const ab = books.api();

  const manifest = JSON.parse(readFileSync(join(srcDir, "manifest.json"), "utf8"));
  globalThis.browser = {
    i18n: { getMessage, getUILanguage: () => "en-US" },
    runtime: {
      id: "eas4tbsync@jobisoft.de",
      getURL: (p) => FIXTURE + String(p).replace(/^\//, ""),
      getManifest: () => manifest,
      getPlatformInfo: async () => ({ os: "linux", arch: "x86-64" }),
      onMessage: event(),
      onMessageExternal: event(),
      onConnectExternal: event(),
      sendMessage: async () => null,
    },
    storage: { local },
    LegacyPrefs: { getUserPref: async () => null },
    LegacyLoginManager: { getLoginInfo: async () => null },
    webRequest: { onBeforeSendHeaders: event() },
    cookies: { set: async () => null },
  };
  globalThis.messenger = {
    calendar: cal,
    ...ab,
    messengerUtilities: {
      async parseMailboxString(raw) {
        return String(raw)
          .split(",")
          .map((part) => {
            const m = /^\s*(?:"?([^"<]*?)"?\s*)?<([^>]+)>\s*$/.exec(part);
            return m ? { name: m[1] || undefined, email: m[2] } : { email: part.trim() };
          })
          .filter((x) => x.email);
      },
      async convertToPlainText(html) {
        return String(html ?? "")
          .replace(/<\s*br\s*\/?>/gi, "\n")
          .replace(/<\/\s*(p|div|li|h[1-6])\s*>/gi, "\n")
          .replace(/<[^>]+>/g, "")
          .replace(/&nbsp;/g, " ")
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, "&")
          .trim();
      },
    },
  };

  const requests = [];
  const realFetch = globalThis.fetch.bind(globalThis);
  globalThis.fetch = async (input, init = {}) => {
    const s = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (s.startsWith(FIXTURE)) {
      const text = readFileSync(join(srcDir, s.slice(FIXTURE.length)), "utf8");
      return new Response(text, { status: 200 });
    }
    const u = new URL(s);
    const host = u.hostname.toLowerCase();
    if (host === domain || host.endsWith("." + domain)) {
      u.hostname = "localhost";
      u.port = String(u.protocol === "https:" ? httpsPort : httpPort);
    }
    const hdrs = new Headers(init.headers ?? {});
    const entry = { method: init.method ?? "GET", url: s, cmd: u.searchParams.get("Cmd"), version: hdrs.get("MS-ASProtocolVersion"), status: 0 };
    requests.push(entry);
    const resp = await realFetch(u, init);
    entry.status = resp.status;
    return resp;
  };

  return { calendars, books, storage, requests };
}
