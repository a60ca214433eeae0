/**
 * Contacts over ActiveSync (MS-ASCNTC + Contacts2) end to end, over real
 * HTTPS with every request and response checked against libwbxml2-utils:
 * vCard 3.0 and 4.0 cards PUT over CardDAV arrive on the device with every
 * field; a device Add and Change read back over CardDAV (GET) with the
 * properties ActiveSync cannot express kept; a CardDAV edit reaches the
 * device as a Change; malformed device data gets Status 6 and nothing is
 * stored. Versions 14.1 and 16.1, and a sync for 12.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appData, commandsOf, el, httpsRequest, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import type { Account } from "../../storage/api.ts";
import type { WElement } from "../../protocols/http/eas/wbxml/tree.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const USER = "cora@example.test";
const PASS = "cora-secret-1";
const BOOK = `/dav/addressbooks/${USER}/Contacts/`;
const PHOTO = Buffer.from(Array.from({ length: 900 }, (_, i) => (i * 31 + 7) % 256)).toString("base64");
const photo3 = (PHOTO.match(/.{1,70}/g) ?? []).map((l, i) => (i === 0 ? `PHOTO;ENCODING=b;TYPE=JPEG:${l}` : ` ${l}`));

const card3 = (uid: string) =>
  [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:${uid}`,
    `FN:Pat Q. Doe (${uid})`,
    "N:Doe;Pat;Quincy;;",
    "ORG:Doe Industries;Sales",
    "TITLE:Account Manager",
    "EMAIL;TYPE=INTERNET,WORK:pat@doe.example",
    "EMAIL;TYPE=INTERNET,HOME:pat@home.example",
    "EMAIL;TYPE=INTERNET:pat@third.example",
    "TEL;TYPE=WORK,VOICE:+1 555 0200",
    "TEL;TYPE=CELL:+1 555 0201",
    "TEL;TYPE=HOME,VOICE:+1 555 0202",
    "TEL;TYPE=PAGER:+1 555 0203",
    "ADR;TYPE=WORK:;;10 Market St;Portland;OR;97201;USA",
    "ADR;TYPE=HOME:;;5 Oak Ave;Salem;OR;97301;USA",
    "BDAY:1975-11-30",
    "CATEGORIES:Clients,Golf",
    ...photo3,
    "NOTE:Prefers phone calls.",
    "X-PILLARBOX-COLOR:teal",
    "END:VCARD",
    "",
  ].join("\r\n");

const card4 = (uid: string) =>
  [
    "BEGIN:VCARD",
    "VERSION:4.0",
    `UID:${uid}`,
    `FN:Lee Park (${uid})`,
    "N:Park;Lee;;;",
    "EMAIL;TYPE=work:lee@park.example",
    "EMAIL;TYPE=home:lee@mail.example",
    "TEL;VALUE=uri;TYPE=cell:tel:+82-10-5555-0101",
    "TEL;VALUE=uri;TYPE=home:tel:+82-2-5555-0102",
    "ADR;TYPE=work:;;1 Sejong-ro;Seoul;;03172;Korea",
    "ADR;TYPE=home:;;2 Hangang-daero;Seoul;;04386;Korea",
    "BDAY:19880704",
    `PHOTO:data:image/jpeg;base64,${PHOTO}`,
    "CATEGORIES:Friends",
    "RELATED;TYPE=colleague:urn:uuid:pat",
    "X-SOCIAL-LINK:https://social.example/lee",
    "END:VCARD",
    "",
  ].join("\r\n");

let env: EasEnv;
let acct: Account;
let n = 0;
const auth = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;

async function dav(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method, path, headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/vcard; charset=utf-8" } : {}), ...headers }, body: body !== undefined ? enc.encode(body) : undefined });
  return { status: r.status, etag: String(r.headers.etag ?? ""), text: dec.decode(r.body) };
}

async function device(version: string): Promise<EasClient> {
  const c = env.client({ user: USER, pass: PASS, deviceId: `CNTC${++n}`, version });
  await c.provision();
  if (!c.folders.length) await c.folderSync();
  return c;
}

const options = [el("AirSync:Class", "Contacts"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"), el("AirSyncBase:TruncationSize", "32768"))];

function fieldsOf(data: WElement | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of kids(data)) out[`${e.ns}:${e.name}`] = text(e);
  return out;
}

/** Unfolded lines of a card (RFC 6350 §3.2). */
const unfold = (s: string) => s.replace(/\r\n[ \t]/g, "").split("\r\n");

/** The resource name of the item a device ServerId names. */
async function resourceOf(serverId: string): Promise<string> {
  const item = await env.srv.store.getItem(Number(serverId.split(":").pop()));
  return item!.resourceName!;
}

async function fullSync(c: EasClient, coll: string): Promise<WElement[]> {
  await c.sync(coll, { options });
  const adds: WElement[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await c.sync(coll, { options, windowSize: 100 });
    expect(r.status).toBe("1");
    adds.push(...commandsOf(r.coll).adds);
    if (!kid(r.coll, "AirSync:MoreAvailable")) break;
  }
  return adds;
}

beforeAll(async () => {
  if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
  env = await startEas();
  acct = await createUser(env.srv.store, USER, PASS, { displayName: "Cora Contact" });
  await env.srv.ctx.groupware.ensureDefaults(acct);
});

afterAll(async () => {
  const w = env.libwbxml();
  expect(w.mismatches).toEqual([]);
  if (libwbxmlAvailable()) expect(w.responses).toBeGreaterThan(10);
  await env.close();
});

describe("contacts over ActiveSync", () => {
  for (const version of ["14.1", "16.1"]) {
    test(`${version}: CardDAV 3.0 and 4.0 cards arrive with every field`, async () => {
      expect((await dav("PUT", `${BOOK}pat-${version}.vcf`, card3(`pat-${version}`))).status).toBe(201);
      expect((await dav("PUT", `${BOOK}lee-${version}.vcf`, card4(`lee-${version}`))).status).toBe(201);
      const c = await device(version);
      const f = c.folders.find((x) => x.type === 9);
      expect(f?.displayName).toBeTruthy();
      const adds = await fullSync(c, f!.serverId);
      const byName = new Map(adds.map((a) => [fieldsOf(appData(a))["Contacts:FileAs"], fieldsOf(appData(a))]));
      const pat = byName.get(`Pat Q. Doe (pat-${version})`)!;
      expect(pat).toBeDefined();
      expect(pat["Contacts:FirstName"]).toBe("Pat");
      expect(pat["Contacts:MiddleName"]).toBe("Quincy");
      expect(pat["Contacts:LastName"]).toBe("Doe");
      expect(pat["Contacts:CompanyName"]).toBe("Doe Industries");
      expect(pat["Contacts:Department"]).toBe("Sales");
      expect(pat["Contacts:JobTitle"]).toBe("Account Manager");
      expect([pat["Contacts:Email1Address"], pat["Contacts:Email2Address"], pat["Contacts:Email3Address"]]).toEqual(["pat@doe.example", "pat@home.example", "pat@third.example"]);
      expect([pat["Contacts:BusinessPhoneNumber"], pat["Contacts:MobilePhoneNumber"], pat["Contacts:HomePhoneNumber"], pat["Contacts:PagerNumber"]]).toEqual(["+1 555 0200", "+1 555 0201", "+1 555 0202", "+1 555 0203"]);
      expect([pat["Contacts:BusinessAddressStreet"], pat["Contacts:BusinessAddressCity"], pat["Contacts:BusinessAddressState"], pat["Contacts:BusinessAddressPostalCode"], pat["Contacts:BusinessAddressCountry"]]).toEqual(["10 Market St", "Portland", "OR", "97201", "USA"]);
      expect([pat["Contacts:HomeAddressStreet"], pat["Contacts:HomeAddressCity"]]).toEqual(["5 Oak Ave", "Salem"]);
      expect(pat["Contacts:Birthday"]).toBe("1975-11-30T10:00:00.000Z");
      expect(pat["Contacts:Picture"]).toBe(PHOTO);
      const patAdd = adds.find((a) => fieldsOf(appData(a))["Contacts:FileAs"] === `Pat Q. Doe (pat-${version})`)!;
      expect(kids(kid(appData(patAdd), "Contacts:Categories"), "Contacts:Category").map(text)).toEqual(["Clients", "Golf"]);
      expect(kidText(kid(appData(patAdd), "AirSyncBase:Body"), "AirSyncBase:Data")).toBe("Prefers phone calls.");
      const lee = byName.get(`Lee Park (lee-${version})`)!;
      expect([lee["Contacts:Email1Address"], lee["Contacts:Email2Address"]]).toEqual(["lee@park.example", "lee@mail.example"]);
      expect([lee["Contacts:MobilePhoneNumber"], lee["Contacts:HomePhoneNumber"]]).toEqual(["+82-10-5555-0101", "+82-2-5555-0102"]);
      expect([lee["Contacts:BusinessAddressCity"], lee["Contacts:HomeAddressPostalCode"]]).toEqual(["Seoul", "04386"]);
      expect(lee["Contacts:Birthday"]).toBe("1988-07-04T10:00:00.000Z");
      expect(lee["Contacts:Picture"]).toBe(PHOTO);

      // A device Change of the 3.0 card (new title and mobile number, the rest echoed): CardDAV sees
      // the change with the X- property and the photo kept.
      const patSid = kidText(patAdd, "AirSync:ServerId")!;
      const changed = el(
        "AirSync:ApplicationData",
        kids(appData(patAdd)).map((e) => (e.name === "JobTitle" ? el("Contacts:JobTitle", "Sales Director") : e.name === "MobilePhoneNumber" ? el("Contacts:MobilePhoneNumber", "+1 555 0299") : e)),
      );
      const ch = await c.sync(f!.serverId, { options, commands: [el("AirSync:Change", el("AirSync:ServerId", patSid), changed)] });
      expect(ch.status).toBe("1");
      expect(kidText(kid(kid(ch.coll, "AirSync:Responses"), "AirSync:Change"), "AirSync:Status") ?? "1").toBe("1");
      const got = await dav("GET", `${BOOK}pat-${version}.vcf`);
      expect(got.status).toBe(200);
      const lines = unfold(got.text);
      expect(lines).toContain("TITLE:Sales Director");
      expect(lines).toContain("TEL;TYPE=CELL:+1 555 0299");
      expect(lines).toContain("X-PILLARBOX-COLOR:teal");
      expect(lines).toContain(`PHOTO;ENCODING=b;TYPE=JPEG:${PHOTO}`);
      expect(lines).toContain("NOTE:Prefers phone calls.");
      expect(lines).toContain("BDAY:1975-11-30");
      // Unchanged lines are what the CardDAV client wrote.
      expect(got.text.replace("TITLE:Sales Director", "TITLE:Account Manager").replace("+1 555 0299", "+1 555 0201")).toBe(card3(`pat-${version}`));
    });

    test(`${version}: a device Add reads back over CardDAV; a CardDAV edit reaches the device; a device Change keeps the CardDAV X- property`, async () => {
      const c = await device(version);
      const coll = c.folderByType(9);
      await fullSync(c, coll);
      const add = await c.sync(coll, {
        options,
        commands: [
          el(
            "AirSync:Add",
            el("AirSync:ClientId", `new-${version}`),
            el(
              "AirSync:ApplicationData",
              el("Contacts:FirstName", "Robin"),
              el("Contacts:LastName", "Vale"),
              el("Contacts:Email1Address", "robin@vale.example"),
              el("Contacts:Email2Address", "\"Robin V\" <rv@other.example>"),
              el("Contacts:MobilePhoneNumber", "+44 7700 900123"),
              el("Contacts:BusinessPhoneNumber", "+44 20 7946 0018"),
              el("Contacts:HomeAddressStreet", "3 High St"),
              el("Contacts:HomeAddressCity", "Bath"),
              el("Contacts:Birthday", "1992-03-14T00:00:00.000Z"),
              el("Contacts:Categories", el("Contacts:Category", "Family")),
              el("Contacts:Picture", PHOTO),
              el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "Added on the phone")),
              el("Contacts2:NickName", "Rob"),
              el("Contacts2:IMAddress", "robin@chat.example"),
            ),
          ),
        ],
      });
      const resp = kid(kid(add.coll, "AirSync:Responses"), "AirSync:Add");
      expect(kidText(resp, "AirSync:Status")).toBe("1");
      const sid = kidText(resp, "AirSync:ServerId")!;
      const name = await resourceOf(sid);
      const got = await dav("GET", `${BOOK}${encodeURIComponent(name)}`);
      expect(got.status).toBe(200);
      const lines = unfold(got.text);
      expect(lines).toContain("VERSION:3.0");
      expect(lines).toContain("FN:Robin Vale");
      expect(lines).toContain("N:Vale;Robin;;;");
      expect(lines).toContain("EMAIL;TYPE=internet:robin@vale.example");
      expect(lines).toContain("EMAIL;TYPE=internet:rv@other.example");
      expect(lines).toContain("TEL;TYPE=cell:+44 7700 900123");
      expect(lines).toContain("TEL;TYPE=work,voice:+44 20 7946 0018");
      expect(lines).toContain("ADR;TYPE=home:;;3 High St;Bath;;;");
      expect(lines).toContain("BDAY:1992-03-14");
      expect(lines).toContain("CATEGORIES:Family");
      expect(lines).toContain(`PHOTO;ENCODING=b;TYPE=JPEG:${PHOTO}`);
      expect(lines).toContain("NOTE:Added on the phone");
      expect(lines).toContain("NICKNAME:Rob");
      expect(lines).toContain("IMPP:im:robin@chat.example");

      // A CardDAV client adds an X- property and a spouse: the device gets a Change.
      const edited = got.text.replace("END:VCARD", "X-DAV-ONLY;X-P=1:from the desktop\r\nX-SPOUSE:Sam Vale\r\nEND:VCARD");
      expect((await dav("PUT", `${BOOK}${encodeURIComponent(name)}`, edited, { "if-match": got.etag })).status).toBe(204);
      const r = await c.sync(coll, { options });
      const changes = commandsOf(r.coll).changes;
      expect(changes.length).toBe(1);
      const data = fieldsOf(appData(changes[0]!));
      expect(data["Contacts:Spouse"]).toBe("Sam Vale");
      expect(data["Contacts:FirstName"]).toBe("Robin");

      // The device changes the mobile number and drops the spouse and the second email.
      const dc = await c.sync(coll, {
        options,
        commands: [
          el(
            "AirSync:Change",
            el("AirSync:ServerId", sid),
            el(
              "AirSync:ApplicationData",
              kids(appData(changes[0]!)).filter((e) => e.name !== "Spouse" && e.name !== "Email2Address" && e.name !== "MobilePhoneNumber"),
              el("Contacts:MobilePhoneNumber", "+44 7700 900999"),
            ),
          ),
        ],
      });
      expect(dc.status).toBe("1");
      const after = unfold((await dav("GET", `${BOOK}${encodeURIComponent(name)}`)).text);
      expect(after).toContain("X-DAV-ONLY;X-P=1:from the desktop");
      expect(after).toContain("TEL;TYPE=cell:+44 7700 900999");
      expect(after.some((l) => l.startsWith("X-SPOUSE"))).toBe(false);
      expect(after.filter((l) => l.startsWith("EMAIL"))).toEqual(["EMAIL;TYPE=internet:robin@vale.example"]);
      expect(after).toContain(`PHOTO;ENCODING=b;TYPE=JPEG:${PHOTO}`);

      // A device Delete removes the card from CardDAV.
      const del = await c.sync(coll, { options, commands: [el("AirSync:Delete", el("AirSync:ServerId", sid))] });
      expect(del.status).toBe("1");
      expect((await dav("GET", `${BOOK}${encodeURIComponent(name)}`)).status).toBe(404);
    });

    test(`${version}: malformed contacts get Status 6 and nothing is stored; a good one in the same Sync is kept`, async () => {
      const c = await device(version);
      const coll = c.folderByType(9);
      await fullSync(c, coll);
      const folder = (await env.srv.ctx.groupware.getCollection(acct, "Contacts"))!;
      const before = (await env.srv.store.listItems(folder.id)).length;
      const bad: WElement[] = [
        el("AirSync:ApplicationData", el("Contacts:FirstName", "A"), el("Contacts:Birthday", "20261345T000000Z")),
        el("AirSync:ApplicationData", el("Contacts:FirstName", "B"), el("Contacts:Picture", "A".repeat(60_000))),
        el("AirSync:ApplicationData", el("Contacts:FirstName", "C"), el("Contacts:Picture", "@@not base64@@")),
        el("AirSync:ApplicationData", ...Array.from({ length: 50 }, (_, i) => el("Contacts:Email1Address", `e${i}@x.example`))),
        el("AirSync:ApplicationData", el("Contacts:FirstName", "D"), el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "x".repeat(700 * 1024)))),
        el("AirSync:ApplicationData", el("Contacts:FirstName", "E"), el("Contacts:Categories", Array.from({ length: 1000 }, (_, i) => el("Contacts:Category", `c${i}`)))),
      ];
      const good = el("AirSync:ApplicationData", el("Contacts:FirstName", "Good"), el("Contacts:LastName", `One ${version}`));
      const r = await c.sync(coll, {
        options,
        commands: [...bad.map((d, i) => el("AirSync:Add", el("AirSync:ClientId", `bad${i}`), d)), el("AirSync:Add", el("AirSync:ClientId", "good"), good)],
      });
      expect(r.r.status).toBe(200);
      const statuses = kids(kid(r.coll, "AirSync:Responses"), "AirSync:Add").map((a) => [kidText(a, "AirSync:ClientId"), kidText(a, "AirSync:Status")]);
      expect(statuses).toEqual([...bad.map((_, i) => [`bad${i}`, "6"]), ["good", "1"]]);
      expect((await env.srv.store.listItems(folder.id)).length).toBe(before + 1);

      // A bad Change leaves the stored card as it was.
      const goodSid = kidText(kids(kid(r.coll, "AirSync:Responses"), "AirSync:Add").find((a) => kidText(a, "AirSync:ClientId") === "good"), "AirSync:ServerId")!;
      const name = await resourceOf(goodSid);
      const stored = (await dav("GET", `${BOOK}${encodeURIComponent(name)}`)).text;
      const bc = await c.sync(coll, { options, commands: [el("AirSync:Change", el("AirSync:ServerId", goodSid), el("AirSync:ApplicationData", el("Contacts:FirstName", "Changed"), el("Contacts:Anniversary", "2026-02-30T00:00:00.000Z")))] });
      expect(bc.r.status).toBe(200);
      expect(kidText(kid(kid(bc.coll, "AirSync:Responses"), "AirSync:Change"), "AirSync:Status")).toBe("6");
      expect((await dav("GET", `${BOOK}${encodeURIComponent(name)}`)).text).toBe(stored);
    });
  }

  test("14.1: a device whose SyncKey 0 lists Supported elements keeps the ghosted ones on a Change (read over CardDAV)", async () => {
    expect((await dav("PUT", `${BOOK}ghost.vcf`, card3("ghost-1"))).status).toBe(201);
    const c = await device("14.1");
    const coll = c.folderByType(9);
    const supported = ["FirstName", "LastName", "MiddleName", "FileAs", "MobilePhoneNumber", "Email1Address", "JobTitle"].map((n) => el(`Contacts:${n}`));
    const first = await c.send(
      "Sync",
      el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", "0"), el("AirSync:CollectionId", coll), el("AirSync:Supported", supported)))),
    );
    const fc = kid(kid(first.doc!, "AirSync:Collections"), "AirSync:Collection");
    expect(kidText(fc, "AirSync:Status")).toBe("1");
    c.syncKeys.set(coll, kidText(fc, "AirSync:SyncKey")!);
    const adds = await (async () => {
      const out: WElement[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await c.sync(coll, { options, windowSize: 100 });
        out.push(...commandsOf(r.coll).adds);
        if (!kid(r.coll, "AirSync:MoreAvailable")) break;
      }
      return out;
    })();
    const ghost = adds.find((a) => fieldsOf(appData(a))["Contacts:FileAs"] === "Pat Q. Doe (ghost-1)")!;
    // The device sends back only what it manages, with a new mobile number and without a job title.
    const r = await c.sync(coll, {
      options,
      commands: [
        el(
          "AirSync:Change",
          el("AirSync:ServerId", kidText(ghost, "AirSync:ServerId")!),
          el("AirSync:ApplicationData", el("Contacts:FileAs", "Pat Q. Doe (ghost-1)"), el("Contacts:FirstName", "Pat"), el("Contacts:MiddleName", "Quincy"), el("Contacts:LastName", "Doe"), el("Contacts:MobilePhoneNumber", "+1 555 0777"), el("Contacts:Email1Address", "pat@doe.example")),
        ),
      ],
    });
    expect(r.status).toBe("1");
    const got = await dav("GET", `${BOOK}ghost.vcf`);
    const lines = unfold(got.text);
    expect(lines).toContain("TEL;TYPE=CELL:+1 555 0777");
    expect(lines.some((l) => l.startsWith("TITLE"))).toBe(false);
    // Everything ghosted is as the CardDAV client wrote it.
    expect(got.text.replace("TEL;TYPE=CELL:+1 555 0777", "TEL;TYPE=CELL:+1 555 0201")).toBe(card3("ghost-1").replace("TITLE:Account Manager\r\n", ""));
  });

  test("16.1: GetItemEstimate, ItemOperations Fetch, a user address book (FolderCreate 14) and MoveItems into it (CardDAV sees the card there)", async () => {
    expect((await dav("PUT", `${BOOK}mover.vcf`, card4("mover-1"))).status).toBe(201);
    const c = await device("16.1");
    const coll = c.folderByType(9);
    await c.sync(coll, { options });
    const est = await c.send("GetItemEstimate", el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", c.syncKeys.get(coll)!), el("GetItemEstimate:CollectionId", coll), el("AirSync:Options", el("AirSync:Class", "Contacts"))))));
    const resp = kid(est.doc!, "GetItemEstimate:Response");
    expect(kidText(resp, "GetItemEstimate:Status")).toBe("1");
    const folder = (await env.srv.ctx.groupware.getCollection(acct, "Contacts"))!;
    const count = (await env.srv.store.listItems(folder.id)).length;
    expect(Number(kidText(kid(resp, "GetItemEstimate:Collection"), "GetItemEstimate:Estimate"))).toBe(count);
    const adds: WElement[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await c.sync(coll, { options, windowSize: 100 });
      adds.push(...commandsOf(r.coll).adds);
      if (!kid(r.coll, "AirSync:MoreAvailable")) break;
    }
    expect(adds.length).toBe(count);
    const mover = adds.find((a) => fieldsOf(appData(a))["Contacts:FileAs"] === "Lee Park (mover-1)")!;
    const sid = kidText(mover, "AirSync:ServerId")!;

    const f = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSync:CollectionId", coll), el("AirSync:ServerId", sid))));
    const fetch = kid(kid(f.doc!, "ItemOperations:Response"), "ItemOperations:Fetch");
    expect(kidText(fetch, "ItemOperations:Status")).toBe("1");
    expect(kidText(kid(fetch, "ItemOperations:Properties"), "Contacts:Email1Address")).toBe("lee@park.example");

    const mk = await c.send("FolderCreate", el("FolderHierarchy:FolderCreate", el("FolderHierarchy:SyncKey", c.folderSyncKey), el("FolderHierarchy:ParentId", "0"), el("FolderHierarchy:DisplayName", "Work contacts"), el("FolderHierarchy:Type", "14")));
    expect(kidText(mk.doc!, "FolderHierarchy:Status")).toBe("1");
    c.folderSyncKey = kidText(mk.doc!, "FolderHierarchy:SyncKey")!;
    const other = kidText(mk.doc!, "FolderHierarchy:ServerId")!;
    await c.sync(other, { options });
    const mv = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", sid), el("Move:SrcFldId", coll), el("Move:DstFldId", other))));
    const mr = kid(mv.doc!, "Move:Response");
    expect(kidText(mr, "Move:Status")).toBe("3");
    const moved = (await env.srv.store.getItem(Number(kidText(mr, "Move:DstMsgId")!.split(":").pop())))!;
    const book = (await env.srv.store.getFolderById(moved.folderId))!;
    expect(book.id).toBe(Number(other));
    const got = await dav("GET", `/dav/addressbooks/${USER}/${encodeURIComponent(book.name)}/${encodeURIComponent(moved.resourceName!)}`);
    expect(got.status).toBe(200);
    expect(got.text).toBe(card4("mover-1"));
    expect((await dav("GET", `${BOOK}mover.vcf`)).status).toBe(404);
  });

  test("12.1: FolderSync lists Contacts (9) and a sync brings the cards", async () => {
    await dav("PUT", `${BOOK}twelve.vcf`, card3("twelve-1").replace("FN:Pat Q. Doe (twelve-1)", "FN:Twelve One"));
    const c = await device("12.1");
    const f = c.folders.find((x) => x.type === 9);
    expect(f).toBeDefined();
    const adds = await fullSync(c, f!.serverId);
    const twelve = adds.map((a) => fieldsOf(appData(a))).find((x) => x["Contacts:FileAs"] === "Twelve One")!;
    expect(twelve["Contacts:Email1Address"]).toBe("pat@doe.example");
    expect(twelve["Contacts:Picture"]).toBe(PHOTO);
    expect(twelve["AirSyncBase:Body"]).toBeDefined();
  });
});
