/**
 * Drives EAS-4-TbSync's own modules (from a copy of its checkout) against a
 * running Pillarbox, as Thunderbird with TbSync would: Autodiscover, account
 * setup, connect (OPTIONS, Provision, FolderSync), the add-on's folder
 * selection, then per-folder sync of calendar, contacts and tasks both ways.
 * The results are checked over CalDAV/CardDAV. Prints one line per check
 * and, last, "N passed, M failed".
 *
 *   node harness.mjs --src <copy>/src --port <https> --http-port <http>
 *        --jsdom <dir with node_modules/jsdom> [--as-version 16.1|14.1|14.0]
 *
 * The add-on's code is imported, never copied into this repository; what
 * stands in for Thunderbird and the TbSync host is in host-env.mjs.
 */
import { FakeHost } from "./host-env.mjs";
import { AS_VERSION, DOMAIN, PASS, PORT, SRC, USER, check, counts, env, mod, seed, step } from "./common.mjs";
import { scene01, scene02, scene03, scene04 } from "./scenes-sync.mjs";
import { scene05, scene06, scene07 } from "./scenes-meetings.mjs";
import { scene08, scene09, scene10, scene11, scene12, scene13 } from "./scenes-folders.mjs";
import { scene14, scene15, scene16, scene17, scene18 } from "./scenes-last.mjs";

// ── the run ───────────────────────────────────────────────────────────────
async function main() {
  console.log(`EAS-4-TbSync harness: ${SRC} against https://localhost:${PORT} (EAS version ${AS_VERSION})`);
  const seeded = await step("seed over CalDAV/CardDAV", async () => (await seed(), true));
  if (!seeded) return;

  const { EasProvider } = await mod("modules/eas-provider.mjs");
  const { registerCalendarProvider, setSyncHandlers } = await mod("modules/calendar-provider.mjs");
  const { discoverEasServer } = await mod("modules/eas/autodiscover.mjs");
  const addressBook = await mod("vendor/tbsync/address-book.mjs");

  registerCalendarProvider();
  const provider = new EasProvider();
  const host = new FakeHost(provider);
  globalThis.__host = host;
  setSyncHandlers({ provider, reportEventLog: (p) => provider.reportEventLog(p) });
  await step("onConnectedToHost", async () => provider.onConnectedToHost());
  addressBook.installContactsObserver({ provider, report: (p) => provider.reportEventLog(p) });

  // Autodiscover as the setup dialog runs it (the email's domain is mapped to the server).
  const found = await step("autodiscover", () => discoverEasServer({ email: USER, password: PASS }));
  check("autodiscover finds the ActiveSync URL", found?.server && /\/Microsoft-Server-ActiveSync$/i.test(found.server), JSON.stringify(found));
  const server = found?.server ?? `https://mail.${DOMAIN}/Microsoft-Server-ActiveSync`;

  const setup = await provider.createAccountFromSetup({ servertype: "auto", email: USER, server, password: PASS, label: "Interop" });
  const accountId = "account1";
  host.register(accountId, setup);
  // A forced version: the add-on's config popup sets asversionselected, which
  // only its connect path reads; its folder syncs use the negotiated
  // `asversion`, which is sticky while the server advertises it. So both
  // are set, as for an account first connected when that was the version.
  if (AS_VERSION !== "auto") await provider.updateAccount({ accountId, patch: { custom: { asversionselected: AS_VERSION, asversion: AS_VERSION } } });

  await step("connect (OPTIONS, Provision, FolderSync)", () => provider.onAccountEnabled({ accountId }));
  const acct = host.accounts.get(accountId).account;
  check("version negotiated", acct.custom.asversion, JSON.stringify(acct.custom.allowedEasVersions));
  const used = acct.custom.asversion;
  if (AS_VERSION !== "auto") check(`account syncs with EAS ${AS_VERSION}`, used === AS_VERSION, used);
  console.log(`# EAS version in use: ${used}; server advertises ${acct.custom.allowedEasVersions?.join(",")}`);
  check("provisioned after the server asked (policy key stored)", acct.custom.provision === true && acct.custom.policykey && acct.custom.policykey !== "0", `${acct.custom.provision} ${acct.custom.policykey}`);
  check("FolderSync key stored", acct.custom.foldersynckey && acct.custom.foldersynckey !== "0", acct.custom.foldersynckey);
  check("user address learned (Settings UserInformation)", acct.custom.userSmtpAddress === USER, acct.custom.userSmtpAddress);

  // The add-on's own folder selection: which folders it offers (a target type, not hidden).
  const offered = host.folders(accountId).filter((f) => f.targetType && !f.hidden);
  console.log(`# folders offered: ${offered.map((f) => `${f.displayName} (${f.targetType}, type ${f.custom.type})`).join("; ") || "none"}`);
  const byType = (t) => offered.find((f) => f.targetType === t && ["7", "8", "9"].includes(String(f.custom.type))) ?? offered.find((f) => f.targetType === t);
  const calFolder = byType("calendars");
  const bookFolder = byType("contacts");
  const taskFolder = byType("tasks");
  check("folder selection offers a calendar (default Calendar, type 8)", calFolder && calFolder.custom.type === "8", JSON.stringify(host.pushed?.map((f) => [f.displayName, f.custom.type, f.targetType])));
  check("folder selection offers contacts (default Contacts, type 9)", bookFolder && bookFolder.custom.type === "9");
  check("folder selection offers tasks (default Tasks, type 7)", taskFolder && taskFolder.custom.type === "7");
  for (const f of [calFolder, bookFolder, taskFolder]) if (f) host.select(accountId, f.folderId);

  await step("account sync", () => provider.onSyncAccount({ accountId }));

  const syncFolder = async (f, label) => {
    if (!f) return check(`${label}: sync`, false, "folder not offered");
    const res = await step(`${label}: sync`, () => provider.onSyncFolder({ accountId, folderId: f.folderId }));
    await env.books.settle();
    if (res === undefined) return false;
    const errs = host.log.filter((l) => l.level === "error" && (!l.folderId || l.folderId === f.folderId));
    return check(`${label}: sync`, res?.type === "success", `${JSON.stringify(res)} ${errs.map((e) => e.message).join(" | ")}`);
  };
  /** A sync inside a wait loop: counted as a check only when it fails, so the
   *  number of checks does not depend on how many rounds the wait took. */
  const syncQuiet = async (f, label) => {
    try {
      const res = await provider.onSyncFolder({ accountId, folderId: f.folderId });
      await env.books.settle();
      if (res?.type !== "success") check(label, false, JSON.stringify(res));
    } catch (e) {
      check(label, false, e?.message ?? e);
    }
  };
  const folderNow = (f) => f && host.folders(accountId).find((x) => x.folderId === f.folderId);

  const t = { seeded, EasProvider, registerCalendarProvider, setSyncHandlers, discoverEasServer, addressBook, provider, host, found, server, setup, accountId, acct, used, offered, byType, calFolder, bookFolder, taskFolder, syncFolder, syncQuiet, folderNow };
  await scene01(t);
  await scene02(t);
  await scene03(t);
  await scene04(t);
  await scene05(t);
  await scene06(t);
  await scene07(t);
  await scene08(t);
  await scene09(t);
  await scene10(t);
  await scene11(t);
  await scene12(t);
  await scene13(t);
  await scene14(t);
  await scene15(t);
  await scene16(t);
  await scene17(t);
  await scene18(t);
}

try {
  await main();
} catch (e) {
  check("harness", false, e?.stack ?? e);
}
const bad = env.requests.filter((r) => r.status >= 500);
check("no HTTP 5xx from the server", bad.length === 0, bad.map((r) => `${r.method} ${r.cmd ?? r.url} -> ${r.status}`).join("; "));
for (const l of globalThis.__host?.log ?? []) {
  if (l.level === "error" || l.level === "warning" || process.env.INTEROP_VERBOSE) console.log(`# [${l.level}] ${l.message}${process.env.INTEROP_VERBOSE && l.details ? "\n" + l.details : ""}`);
}
console.log(`# ${env.requests.length} HTTP requests: ${[...new Set(env.requests.map((r) => r.cmd ?? r.method))].join(", ")}; ActiveSync versions on the wire: ${[...new Set(env.requests.filter((r) => r.version).map((r) => r.version))].join(", ")}`);
const { passed, failed } = counts();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
