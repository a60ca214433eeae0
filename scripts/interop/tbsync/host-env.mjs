/**
 * A small stand-in for what EAS-4-TbSync runs inside: Thunderbird's
 * `browser.*` / `messenger.*` WebExtension APIs (storage, i18n, runtime;
 * calendars and address books from thunderbird.mjs, time zones from
 * zones.mjs) and the TbSync host that owns account and folder rows. All of
 * it lives in memory; none of it is the add-on's code.
 *
 *   installHostEnv({ srcDir, domain, httpsPort, httpPort, jsdomDir })
 *                          -> { calendars, books, storage, requests }
 *   new FakeHost(provider) -> the host (accounts, folders, event log)
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
import { AddressBooks, Calendars, event } from "./thunderbird.mjs";
import { VTIMEZONES, withZones } from "./zones.mjs";

export { VTIMEZONES, withZones };

const FIXTURE = "webext-file:";

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
