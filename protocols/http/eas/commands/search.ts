/**
 * Search (MS-ASCMD §2.2.1.16: Store "Mailbox" over the full-text index,
 * Store "GAL" over the directory) and Find (§2.2.1.2, protocol 16.1:
 * MailBoxSearchCriterion and GalSearchCriterion).
 * Store Status (§2.2.3.177.13): 2 invalid request, 3 server error,
 * 8 query too complex (not used: our queries are simple).
 */
import type { Folder, MessageIndex } from "../../../../storage/api.ts";
import type { CommandHandler, EasContext } from "../context.ts";
import { analyseParts, easDate, emailApplicationData } from "../email/convert.ts";
import { folderByServerId, itemServerId } from "../folders.ts";
import { directory, matchDirectory, type DirectoryEntry } from "../../../../src/groupware/directory.ts";
import { defaultOptions, parseBodyPreferences } from "../sync/engine.ts";
import { el, kid, kids, kidText, ns, text, type WElement } from "../wbxml/tree.ts";

const S = ns("Search");
const FD = ns("Find");
const MAX_SCAN = 2000;

/** "a-b" (MS-ASCMD Range (Search)), default 0-99; at most 1000 results per request. */
function parseRange(s: string | undefined): [number, number] | null {
  if (s === undefined) return [0, 99];
  const m = /^(\d{1,6})-(\d{1,6})$/.exec(s.trim());
  if (!m) return null;
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a > b || b - a >= 1000) return null;
  return [a, b];
}

interface MailQuery {
  collectionId?: string;
  freeText: string;
  after?: number;
  before?: number;
}

function parseMailQuery(q: WElement | undefined): MailQuery | null {
  if (!q) return null;
  const out: MailQuery = { freeText: "" };
  const walk = (e: WElement): boolean => {
    for (const k of kids(e)) {
      if (k.ns === "AirSync" && k.name === "CollectionId") out.collectionId = text(k);
      else if (k.ns === "AirSync" && k.name === "Class") {
        if (text(k) !== "Email") return false;
      } else if (k.name === "FreeText") out.freeText = text(k);
      else if (k.name === "And") {
        if (!walk(k)) return false;
      } else if (k.name === "GreaterThan" || k.name === "LessThan") {
        const v = Date.parse(kidText(k, "Search:Value") ?? "");
        if (!Number.isFinite(v) || !kid(k, "Email:DateReceived")) return false;
        if (k.name === "GreaterThan") out.after = v;
        else out.before = v;
      } else if (k.name === "ConversationId" || k.name === "Or" || k.name === "EqualTo") return false;
    }
    return true;
  };
  return walk(q) ? out : null;
}

async function mailSearch(c: EasContext, q: MailQuery, deep: boolean): Promise<MessageIndex[] | null> {
  let folders: Folder[];
  const all = await c.store.listFolders(c.account.id, { itemClass: "mail" });
  if (q.collectionId !== undefined) {
    const f = await folderByServerId(c.store, c.account.id, q.collectionId);
    if (!f || f.itemClass !== "mail") return null;
    folders = deep ? all.filter((x) => x.id === f.id || x.name.startsWith(f.name + "/")) : [f];
  } else folders = all.filter((f) => f.specialUse !== "\\Trash" && f.specialUse !== "\\Junk");
  const found: MessageIndex[] = [];
  for (const f of folders) {
    const uids = await c.store.searchText(f.id, "text", q.freeText);
    for (let i = 0; i < uids.length && found.length < MAX_SCAN; i += 200) found.push(...(await c.store.getMessages(f.id, uids.slice(i, i + 200))));
    if (found.length >= MAX_SCAN) break;
  }
  return found
    .filter((m) => (q.after === undefined || m.internalDate > q.after) && (q.before === undefined || m.internalDate < q.before))
    .sort((a, b) => b.internalDate - a.internalDate || b.id - a.id);
}

/**
 * A GAL entry's properties (MS-ASCMD §2.2.3.155.3: only nonempty ones, so an
 * account without a display name has no FirstName/LastName). The directory
 * keeps no photos: a requested Picture (14.1+, Search/Find Options Picture)
 * answers GAL Status 173, no picture (MS-ASCMD Status (GAL)).
 */
function galProps(e: DirectoryEntry, picture = false): WElement[] {
  const props: [string, string][] = [["DisplayName", e.displayName], ["Alias", e.alias], ["FirstName", e.firstName], ["LastName", e.lastName], ["EmailAddress", e.email]];
  return [...props.filter(([, v]) => v !== "").map(([k, v]) => el(`GAL:${k}`, v)), ...(picture ? [el("GAL:Picture", el("GAL:Status", "173"))] : [])];
}

/** An ANR query longer than this is refused with Store Status 2 (MS-ASCMD §2.2.3.183 allows 256 characters). */
const MAX_GAL_QUERY = 256;

export const search: CommandHandler = async (c, doc) => {
  const store = kid(doc!, "Search:Store");
  const name = (kidText(store, "Search:Name") ?? "").toLowerCase();
  const options = kid(store, "Search:Options");
  const range = parseRange(kidText(options, "Search:Range"));
  const bad = () => ({ wbxml: S("Search", S("Status", "1"), S("Response", S("Store", S("Status", "2")))) });
  if (!store || !range) return bad();
  if (name === "gal") {
    const query = kidText(store, "Search:Query") ?? "";
    if (query.length > MAX_GAL_QUERY) return bad();
    const picture = c.version >= 141 && kid(options, "Search:Picture") !== undefined;
    const hits = matchDirectory(await directory(c.store, c.account), query);
    const page = hits.slice(range[0], range[1] + 1);
    return {
      wbxml: S(
        "Search",
        S("Status", "1"),
        S("Response", S("Store", S("Status", "1"), page.map((e) => S("Result", S("Properties", galProps(e, picture)))), page.length > 0 && S("Range", `${range[0]}-${range[0] + page.length - 1}`), S("Total", hits.length))),
      ),
    };
  }
  if (name !== "mailbox") return { wbxml: S("Search", S("Status", "1"), S("Response", S("Store", S("Status", "3")))) };
  const q = parseMailQuery(kid(store, "Search:Query"));
  if (!q) return bad();
  const found = await mailSearch(c, q, kid(options, "Search:DeepTraversal") !== undefined);
  if (!found) return bad();
  const page = found.slice(range[0], range[1] + 1);
  const opts = defaultOptions();
  opts.body.prefs = parseBodyPreferences(kids(options, "AirSyncBase:BodyPreference"));
  if (!opts.body.prefs.length) opts.body.prefs = [{ type: 1, truncationSize: 5120 }];
  const results: WElement[] = [];
  for (const m of page) {
    const raw = await c.store.readMessage(m.id);
    results.push(
      S(
        "Result",
        el("AirSync:Class", "Email"),
        S("LongId", itemServerId(m.folderId, m.id)),
        el("AirSync:CollectionId", String(m.folderId)),
        S("Properties", emailApplicationData(m, raw, { body: opts.body, version: c.version, accountId: c.account.id })),
      ),
    );
  }
  return {
    wbxml: S("Search", S("Status", "1"), S("Response", S("Store", S("Status", "1"), results.length ? results : S("Result"), page.length > 0 && S("Range", `${range[0]}-${range[0] + page.length - 1}`), S("Total", found.length)))),
  };
};

export const find: CommandHandler = async (c, doc) => {
  const exec = kid(doc!, "Find:ExecuteSearch");
  const mail = kid(exec, "Find:MailBoxSearchCriterion");
  const gal = kid(exec, "Find:GalSearchCriterion");
  const crit = mail ?? gal;
  const options = kid(crit, "Find:Options");
  const range = parseRange(kidText(options, "Find:Range"));
  if (!crit || !range || !kid(doc!, "Find:SearchId")) return { wbxml: FD("Find", FD("Status", "2")) };
  if (gal) {
    const query = kidText(kid(gal, "Find:Query"), "Find:FreeText") ?? "";
    if (query.length > MAX_GAL_QUERY) return { wbxml: FD("Find", FD("Status", "2")) };
    const hits = matchDirectory(await directory(c.store, c.account), query);
    const page = hits.slice(range[0], range[1] + 1);
    return {
      wbxml: FD(
        "Find",
        FD("Status", "1"),
        FD("Response", el("ItemOperations:Store", "GAL"), FD("Status", "1"), page.map((e) => FD("Result", FD("Properties", galProps(e, kid(options, "Find:Picture") !== undefined)))), page.length > 0 && FD("Range", `${range[0]}-${range[0] + page.length - 1}`), FD("Total", hits.length)),
      ),
    };
  }
  const qEl = kid(mail, "Find:Query");
  const q: MailQuery = { freeText: kidText(qEl, "Find:FreeText") ?? "", collectionId: kidText(qEl, "AirSync:CollectionId") };
  if (kidText(qEl, "AirSync:Class") !== undefined && kidText(qEl, "AirSync:Class") !== "Email") return { wbxml: FD("Find", FD("Status", "2")) };
  const found = await mailSearch(c, q, kid(options, "Find:DeepTraversal") !== undefined);
  if (!found) return { wbxml: FD("Find", FD("Status", "2")) };
  const page = found.slice(range[0], range[1] + 1);
  const results = page.map((m) => {
    const parts = analyseParts(m.root);
    return FD(
      "Result",
      el("AirSync:Class", "Email"),
      el("AirSync:ServerId", itemServerId(m.folderId, m.id)),
      el("AirSync:CollectionId", String(m.folderId)),
      FD(
        "Properties",
        el("Email:Subject", m.subject),
        el("Email:DateReceived", easDate(m.internalDate)),
        el("Email:DisplayTo", m.toAddr),
        FD("DisplayCc", m.ccAddr),
        el("Email:Importance", "1"),
        el("Email:Read", m.flags.includes("\\Seen") ? "1" : "0"),
        el("Email2:IsDraft", m.flags.includes("\\Draft") ? "1" : "0"),
        FD("Preview", m.preview),
        FD("HasAttachments", parts.attachments.length ? "1" : "0"),
        el("Email:From", m.fromName && m.fromName !== m.fromAddr ? `"${m.fromName}" <${m.fromAddr}>` : m.fromAddr),
      ),
    );
  });
  return {
    wbxml: FD("Find", FD("Status", "1"), FD("Response", el("ItemOperations:Store", "Mailbox"), FD("Status", "1"), results, page.length > 0 && FD("Range", `${range[0]}-${range[0] + page.length - 1}`), FD("Total", found.length))),
  };
};

