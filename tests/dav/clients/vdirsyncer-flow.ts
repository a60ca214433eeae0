/**
 * The vdirsyncer / khal / khard steps of vdirsyncer.test.ts, written once
 * against `Peer` and run on Radicale and on Pillarbox.
 */
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEBIAN_PYTHON, describeRun, runClient, type ClientHome } from "../../helpers/dav-clients.ts";
import { curl, put } from "./curl.ts";
import { CONTACT_EMAILS, CONTACT_PHONES, CONTACT3_UID, CONTACT4_UID, contactV3, contactV4, RECUR_UID, recurringEvent, SIMPLE_UID, simpleEvent } from "./fixtures.ts";
import type { Peer } from "./peers.ts";

type Resolution = null | "a wins" | "b wins";

export interface Flow {
  peer: Peer;
  home: ClientHome;
  /** Local collection dirs of the first pair (what khal/khard read). */
  calDir: string;
  cardDir: string;
  calUrl: string;
  cardUrl: string;
}

function writeConfig(f: Flow, resolution: Resolution): string {
  const p = f.peer;
  const q = (s: string | null) => JSON.stringify(s);
  const remote = (kind: "caldav" | "carddav") => `type = "${kind}"
url = ${q(`${p.origin}/`)}
username = ${q(p.user)}
password = ${q(p.password)}
verify = ${q(p.caFile)}
`;
  const cfg = `[general]
status_path = ${q(f.home.path("status") + "/")}

[pair cal]
a = "cal_local"
b = "cal_remote"
collections = ["vsync"]
conflict_resolution = ${q(resolution)}
metadata = ["displayname", "color"]

[pair cards]
a = "cards_local"
b = "cards_remote"
collections = ["vcards"]
conflict_resolution = ${q(resolution)}

[pair cal2]
a = "cal2_local"
b = "cal_remote"
collections = ["vsync"]

[pair cards2]
a = "cards2_local"
b = "cards_remote"
collections = ["vcards"]

[storage cal_local]
type = "filesystem"
path = ${q(f.home.path("cal") + "/")}
fileext = ".ics"

[storage cal2_local]
type = "filesystem"
path = ${q(f.home.path("cal2") + "/")}
fileext = ".ics"

[storage cards_local]
type = "filesystem"
path = ${q(f.home.path("cards") + "/")}
fileext = ".vcf"

[storage cards2_local]
type = "filesystem"
path = ${q(f.home.path("cards2") + "/")}
fileext = ".vcf"

[storage cal_remote]
${remote("caldav")}
[storage cards_remote]
${remote("carddav")}`;
  const file = f.home.path("vdirsyncer.conf");
  writeFileSync(file, cfg);
  return file;
}

async function vdirsyncer(f: Flow, resolution: Resolution, args: string[]) {
  const cfg = writeConfig(f, resolution);
  // "y" answers "Should vdirsyncer attempt to create it?" during discover.
  return runClient(f.home, "vdirsyncer", ["-c", cfg, ...args], { input: "y\n".repeat(16), timeoutMs: 30_000 });
}

/** The file of a local collection dir whose content has this UID. */
function localFile(dir: string, uid: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (readFileSync(p, "utf8").includes(`UID:${uid}\r\n`) || readFileSync(p, "utf8").includes(`UID:${uid}\n`)) return p;
  }
  return undefined;
}

/** Hrefs of the objects in a remote collection (PROPFIND Depth 1, minus the collection itself). */
async function remoteHrefs(p: Peer, url: string): Promise<string[]> {
  const r = await curl(p, "PROPFIND", url, { headers: { Depth: "1", "Content-Type": "application/xml" }, body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>` });
  if (r.status !== 207) throw new Error(`PROPFIND ${url}: ${r.status} ${r.text}`);
  const path = new URL(url).pathname;
  const hrefs = [...r.text.matchAll(/<(?:[A-Za-z0-9]+:)?href>([^<]*)<\/(?:[A-Za-z0-9]+:)?href>/g)].map((m) => decodeURIComponent(m[1]!.replace(/^https?:\/\/[^/]+/, "")));
  return hrefs.filter((h) => h !== path && h !== decodeURIComponent(path));
}

/** The remote object with this UID: its URL, ETag and bytes. */
async function remoteObject(p: Peer, url: string, uid: string): Promise<{ url: string; etag: string; body: Buffer } | undefined> {
  for (const h of await remoteHrefs(p, url)) {
    const abs = new URL(h, url).toString();
    const r = await curl(p, "GET", abs);
    if (r.status === 200 && r.text.includes(`UID:${uid}`)) return { url: abs, etag: r.headers.etag ?? "", body: r.body };
  }
  return undefined;
}

const VCARD_REMOTE_UID = "remote-contact@pillarbox.test";
const EVENT_REMOTE_UID = "remote-1@pillarbox.test";

function remoteContact(): string {
  return ["BEGIN:VCARD", "VERSION:3.0", `UID:${VCARD_REMOTE_UID}`, "FN:Remote Person", "N:Person;Remote;;;", "EMAIL;TYPE=INTERNET:remote@example.net", "END:VCARD", ""].join("\r\n");
}

/** The whole vdirsyncer flow; returns a server-neutral outcome plus the byte-exactness checks. */
export async function flow(f: Flow): Promise<{ same: Record<string, unknown>; exact: Record<string, boolean>; overwriteStatus: number[] }> {
  const p = f.peer;
  const same: Record<string, unknown> = {};
  const exact: Record<string, boolean> = {};
  const overwriteStatus: number[] = [];
  const must = (label: string, r: Awaited<ReturnType<typeof vdirsyncer>>) => {
    if (r.code !== 0) throw new Error(`${p.name}: vdirsyncer ${label}: ${describeRun(r)}`);
  };

  // Discovery from the root URL; vdirsyncer creates the missing collections on both sides.
  must("discover", await vdirsyncer(f, null, ["discover"]));
  same.localDirs = [existsSync(f.calDir), existsSync(f.cardDir)];
  same.remoteCollections = [(await curl(p, "PROPFIND", f.calUrl, { headers: { Depth: "0" } })).status, (await curl(p, "PROPFIND", f.cardUrl, { headers: { Depth: "0" } })).status];

  // Collection metadata (vdirsyncer metasync: PROPFIND/PROPPATCH of displayname and ICAL:calendar-color).
  must("metasync (initial)", await vdirsyncer(f, null, ["metasync", "cal"]));
  writeFileSync(join(f.calDir, "displayname"), "Synced by vdirsyncer");
  writeFileSync(join(f.calDir, "color"), "#FF8800");
  must("metasync (local -> server)", await vdirsyncer(f, null, ["metasync", "cal"]));
  const meta = await curl(p, "PROPFIND", f.calUrl, {
    headers: { Depth: "0" },
    body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/"><D:prop><D:displayname/><I:calendar-color/></D:prop></D:propfind>`,
  });
  same.metaOnServer = [/<(?:\w+:)?displayname>Synced by vdirsyncer</.test(meta.text), /<(?:\w+:)?calendar-color[^>]*>#FF8800(?:FF)?</i.test(meta.text)];
  const renamed = await curl(p, "PROPPATCH", f.calUrl, {
    body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Renamed on the server</D:displayname></D:prop></D:set></D:propertyupdate>`,
  });
  must("metasync (server -> local)", await vdirsyncer(f, null, ["metasync", "cal"]));
  same.metaLocal = [renamed.status, readFileSync(join(f.calDir, "displayname"), "utf8").trim()];

  // Created locally -> uploaded.
  writeFileSync(join(f.calDir, "recur.ics"), recurringEvent());
  writeFileSync(join(f.calDir, "simple.ics"), simpleEvent());
  writeFileSync(join(f.cardDir, "erika.vcf"), contactV3());
  writeFileSync(join(f.cardDir, "max.vcf"), contactV4());
  must("sync (upload)", await vdirsyncer(f, null, ["sync"]));
  same.remoteCounts = [(await remoteHrefs(p, f.calUrl)).length, (await remoteHrefs(p, f.cardUrl)).length];
  const rRecur = await remoteObject(p, f.calUrl, RECUR_UID);
  const rC3 = await remoteObject(p, f.cardUrl, CONTACT3_UID);
  const rC4 = await remoteObject(p, f.cardUrl, CONTACT4_UID);
  same.uploadedFound = [!!rRecur, !!rC3, !!rC4];
  exact.uploadRecur = rRecur?.body.toString("utf8") === recurringEvent();
  exact.uploadContact3 = rC3?.body.toString("utf8") === contactV3();
  exact.uploadContact4 = rC4?.body.toString("utf8") === contactV4();

  // Created on the server (curl) -> downloaded.
  const evUrl = new URL("remote-1.ics", f.calUrl).toString();
  const cardUrl = new URL("remote-contact.vcf", f.cardUrl).toString();
  same.remotePut = [(await put(p, evUrl, simpleEvent("Created on the server", EVENT_REMOTE_UID), "text/calendar; charset=utf-8")).status, (await put(p, cardUrl, remoteContact(), "text/vcard; charset=utf-8")).status];
  must("sync (download)", await vdirsyncer(f, null, ["sync"]));
  const lEv = localFile(f.calDir, EVENT_REMOTE_UID);
  const lCard = localFile(f.cardDir, VCARD_REMOTE_UID);
  same.downloaded = [!!lEv, !!lCard];
  exact.downloadEvent = !!lEv && readFileSync(lEv, "utf8") === simpleEvent("Created on the server", EVENT_REMOTE_UID);
  exact.downloadContact = !!lCard && readFileSync(lCard, "utf8") === remoteContact();

  // A fresh folder pulls everything again (round trip local -> server -> local).
  must("sync cal2 cards2", await vdirsyncer(f, null, ["sync", "cal2", "cards2"]));
  const cal2 = join(f.home.dir, "cal2", "vsync");
  const cards2 = join(f.home.dir, "cards2", "vcards");
  same.secondFolder = [existsSync(cal2) ? readdirSync(cal2).length : -1, existsSync(cards2) ? readdirSync(cards2).length : -1];
  const rt = (dir: string, uid: string) => {
    const file = localFile(dir, uid);
    return file ? readFileSync(file, "utf8") : "";
  };
  exact.roundTripRecur = rt(cal2, RECUR_UID) === recurringEvent();
  exact.roundTripContact3 = rt(cards2, CONTACT3_UID) === contactV3();
  exact.roundTripContact4 = rt(cards2, CONTACT4_UID) === contactV4();
  // Whatever the server did to the bytes, the photo and all emails/phones survive (checked with python below too).
  same.roundTripContactParts = [CONTACT_EMAILS.every((e) => rt(cards2, CONTACT3_UID).includes(e)), CONTACT_PHONES.every((t) => rt(cards2, CONTACT3_UID).includes(t))];
  same.roundTripRecurParts = ["EXDATE", "RECURRENCE-ID", "RRULE:FREQ=WEEKLY", "X-PILLARBOX-KEEP"].map((k) => (rt(cal2, RECUR_UID) + rt(cal2, SIMPLE_UID)).includes(k));

  // Conflict: the same event changed on both sides.
  const simpleLocal = localFile(f.calDir, SIMPLE_UID)!;
  const conflict = async (localSummary: string, remoteSummary: string) => {
    writeFileSync(simpleLocal, simpleEvent(localSummary));
    const cur = (await remoteObject(p, f.calUrl, SIMPLE_UID))!;
    const r = await put(p, cur.url, simpleEvent(remoteSummary), "text/calendar; charset=utf-8", { "If-Match": cur.etag });
    return { status: r.status, url: cur.url };
  };
  const c1 = await conflict("Edited locally", "Edited on the server");
  overwriteStatus.push(c1.status);
  const nullRun = await vdirsyncer(f, null, ["sync", "cal"]);
  same.conflictNull = {
    exitNonZero: nullRun.code !== 0,
    reported: /conflict/i.test(nullRun.stdout + nullRun.stderr),
    localKept: readFileSync(simpleLocal, "utf8").includes("SUMMARY:Edited locally"),
    remoteKept: (await curl(p, "GET", c1.url)).text.includes("SUMMARY:Edited on the server"),
  };
  must("sync a wins", await vdirsyncer(f, "a wins", ["sync", "cal"]));
  const afterA = await curl(p, "GET", c1.url);
  same.aWins = afterA.text.includes("SUMMARY:Edited locally") && !afterA.text.includes("Edited on the server");
  exact.aWinsBytes = afterA.body.equals(readFileSync(simpleLocal));

  const c2 = await conflict("Local again", "Server again");
  overwriteStatus.push(c2.status);
  must("sync b wins", await vdirsyncer(f, "b wins", ["sync", "cal"]));
  const afterB = await curl(p, "GET", c2.url);
  same.bWins = readFileSync(simpleLocal, "utf8").includes("SUMMARY:Server again") && afterB.text.includes("SUMMARY:Server again");
  exact.bWinsBytes = afterB.body.equals(readFileSync(simpleLocal));

  // Deletions both ways.
  unlinkSync(lEv!);
  await curl(p, "DELETE", cardUrl);
  must("sync (deletions)", await vdirsyncer(f, null, ["sync", "cal", "cards"]));
  same.deletions = [(await curl(p, "GET", evUrl)).status, !!localFile(f.cardDir, VCARD_REMOTE_UID)];
  return { same, exact, overwriteStatus };
}

/** khal and khard over what vdirsyncer pulled (scenario 3). */
export async function readers(f: Flow): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const khalCfg = f.home.path("khal.conf");
  writeFileSync(
    khalCfg,
    `[calendars]
[[vsync]]
path = ${f.calDir}
type = calendar

[locale]
local_timezone = UTC
default_timezone = UTC
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
firstweekday = 0
`,
  );
  const kl = await runClient(f.home, "khal", ["-c", khalCfg, "list", "--format", "{start} {title}", "--day-format", "", "2026-01-01", "2026-01-31"]);
  if (kl.code !== 0) throw new Error(`khal: ${describeRun(kl)}`);
  out.khal = kl.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.includes("Weekly sync"));

  const khardCfg = f.home.path("khard.conf");
  writeFileSync(
    khardCfg,
    `[addressbooks]
[[vcards]]
path = ${f.cardDir}

[general]
debug = no
default_action = list
editor = /bin/false
merge_editor = /bin/false

[contact table]
display = first_name
sort = last_name
`,
  );
  const list = await runClient(f.home, "khard", ["-c", khardCfg, "list", "--parsable"]);
  if (list.code !== 0) throw new Error(`khard list: ${describeRun(list)}`);
  out.khardList = list.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t")[1])
    .sort();
  const show = await runClient(f.home, "khard", ["-c", khardCfg, "show", "--format", "yaml", "Erika"]);
  if (show.code !== 0) throw new Error(`khard show: ${describeRun(show)}`);
  out.khardShowEmails = CONTACT_EMAILS.map((e) => show.stdout.includes(e));
  out.khardShowPhones = CONTACT_PHONES.map((t) => show.stdout.includes(t));
  const email = await runClient(f.home, "khard", ["-c", khardCfg, "email", "--parsable", "--remove-first-line", "Erika"]);
  if (email.code !== 0) throw new Error(`khard email: ${describeRun(email)}`);
  out.khardEmail = email.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t")[0])
    .sort();

  // python reads the contact's photo back from the vdirsyncer folder: the exact PNG bytes.
  const py = await runClient(f.home, DEBIAN_PYTHON, [
    "-c",
    "import sys,vobject,hashlib;c=vobject.readOne(open(sys.argv[1],encoding='utf-8').read());print(hashlib.sha256(c.photo.value).hexdigest(), len(c.email_list), len(c.tel_list))",
    localFile(f.cardDir, CONTACT3_UID) ?? "/nonexistent",
  ]);
  out.pythonPhoto = py.stdout.trim();
  return out;
}

