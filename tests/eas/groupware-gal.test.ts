/**
 * The address book over ActiveSync (issue 16): GAL Search splits display
 * names into first/last name and never shows an address as a first name;
 * ResolveRecipients resolves against the directory and the user's contacts,
 * answers CertificateRetrieval with Status 7 (no certificates kept),
 * Availability with the MergedFreeBusy digits of events written over CalDAV,
 * and refuses unknown recipients, absurd time spans and 1,000 recipients
 * with statuses. Over HTTPS, protocol 14.1 and 16.1, every request and
 * response compared with libwbxml2-utils.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { el, httpsRequest, kid, kids, kidText, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";
import { mergedFreeBusy } from "../../protocols/http/eas/commands/resolve.ts";
import { splitName } from "../../src/groupware/directory.ts";

let env: EasEnv;
const PASS = "gal-secret-123";
const USER = "ada@example.test";

function put(path: string, body: string, contentType: string, user = USER): Promise<{ status: number }> {
  return httpsRequest({
    host: "127.0.0.1",
    port: env.port,
    method: "PUT",
    path,
    headers: { authorization: "Basic " + Buffer.from(`${user}:${PASS}`).toString("base64"), "content-type": contentType },
    body: new TextEncoder().encode(body),
  });
}

const vevent = (uid: string, start: string, end: string, extra: string[] = []) =>
  ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox tests//EN", "BEGIN:VEVENT", `UID:${uid}`, "DTSTAMP:20260101T000000Z", `DTSTART:${start}`, `DTEND:${end}`, `SUMMARY:${uid}`, ...extra, "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");

beforeAll(async () => {
  if (process.env.CI === "true" && !libwbxmlAvailable()) throw new Error("libwbxml2-utils (xml2wbxml) is required in CI");
  env = await startEas();
  const store = env.srv.store;
  await createUser(store, USER, PASS, { displayName: "Ada Lovelace" });
  await createUser(store, "jan@example.test", PASS, { displayName: "van der Berg, Jan" });
  await createUser(store, "ludwig@example.test", PASS, { displayName: "Ludwig van Beethoven" });
  await createUser(store, "anonymous@example.test", PASS);
  await createUser(store, "bea@example.test", PASS, { displayName: "Bea Busy" });
  await store.addAlias("team@example.test", "ada@example.test");
  await store.addAlias("team@example.test", "bea@example.test");
  // a group of 21 accounts: merged free/busy of more than 20 members is refused (Status 161)
  for (let i = 0; i < 21; i++) {
    await createUser(store, `member${i}@example.test`, PASS);
    await store.addAlias("everyone@example.test", `member${i}@example.test`);
  }
  // Ada's calendar, written over CalDAV: 2026-03-02 from 08:00Z in 30-minute slots
  const cal = `/dav/calendars/${USER}/Calendar/`;
  const events: [string, string][] = [
    ["early", vevent("early", "20260302T080000Z", "20260302T082000Z")], // slot 0 busy (partly covered)
    ["meeting", vevent("meeting", "20260302T090000Z", "20260302T100000Z")], // slots 2-3 busy
    ["maybe", vevent("maybe", "20260302T101500Z", "20260302T104500Z", ["STATUS:TENTATIVE"])], // slots 4-5 tentative
    ["lunch", vevent("lunch", "20260302T110000Z", "20260302T113000Z", ["TRANSP:TRANSPARENT"])], // slot 6 free
    ["pencilled", vevent("pencilled", "20260302T113000Z", "20260302T120000Z", ["STATUS:TENTATIVE"])], // slot 7 tentative...
    ["call", vevent("call", "20260302T114000Z", "20260302T115000Z")], // ...and busy: busy wins
    ["weekly", vevent("weekly", "20260223T120000Z", "20260223T123000Z", ["RRULE:FREQ=WEEKLY;COUNT=4"])], // slot 8 busy on 03-02
  ];
  for (const [name, body] of events) expect((await put(`${cal}${name}.ics`, body, "text/calendar; charset=utf-8")).status).toBe(201);
  // Bea is busy 08:30-09:00 the same day; the team merges both
  expect((await put(`/dav/calendars/bea@example.test/Calendar/b.ics`, vevent("bea1", "20260302T083000Z", "20260302T090000Z"), "text/calendar", "bea@example.test")).status).toBe(201);
  // An outside address in Ada's own contacts (CardDAV)
  const card = ["BEGIN:VCARD", "VERSION:3.0", "UID:zoe-1", "FN:Zoe Outside", "N:Outside;Zoe;;;", "EMAIL;TYPE=INTERNET:zoe@elsewhere.test", "END:VCARD", ""].join("\r\n");
  expect((await put(`/dav/addressbooks/${USER}/Contacts/zoe.vcf`, card, "text/vcard; charset=utf-8")).status).toBe(201);
}, 60_000);

afterAll(async () => {
  const r = env.libwbxml();
  console.log(`libwbxml: ${r.requests} requests and ${r.responses} responses compared, ${r.skipped} skipped`);
  expect(r.mismatches).toEqual([]);
  if (libwbxmlAvailable()) expect(r.responses).toBeGreaterThan(10);
  await env.close();
});

describe("names", () => {
  test("splitName: first/last, 'Last, First', particles, suffixes, one word, an address", () => {
    expect(splitName("Ada Lovelace")).toEqual({ firstName: "Ada", lastName: "Lovelace" });
    expect(splitName("van der Berg, Jan")).toEqual({ firstName: "Jan", lastName: "van der Berg" });
    expect(splitName("Jan van der Berg")).toEqual({ firstName: "Jan", lastName: "van der Berg" });
    expect(splitName("Martin Luther King Jr.")).toEqual({ firstName: "Martin Luther", lastName: "King Jr." });
    expect(splitName("Robert de Niro Smith")).toEqual({ firstName: "Robert de Niro", lastName: "Smith" });
    expect(splitName("  Dora  ")).toEqual({ firstName: "Dora", lastName: "" });
    expect(splitName("dora@example.test")).toEqual({ firstName: "", lastName: "" });
    expect(splitName("")).toEqual({ firstName: "", lastName: "" });
  });

  test("mergedFreeBusy: one digit per 30 minutes, the highest wins, clipped to the span", () => {
    const t = Date.UTC(2026, 2, 2, 8);
    const m = 60_000;
    expect(mergedFreeBusy([], t, t + 90 * m)).toBe("000");
    expect(mergedFreeBusy([{ start: t - 60 * m, end: t + 10 * m, type: "BUSY-TENTATIVE" }, { start: t + 40 * m, end: t + 200 * m, type: "BUSY" }, { start: t + 50 * m, end: t + 55 * m, type: "BUSY-UNAVAILABLE" }], t, t + 100 * m)).toBe("1322");
  });
});

for (const version of ["14.1", "16.1"]) {
  describe(`protocol ${version}`, () => {
    let c: EasClient;
    const id = version.replace(".", "");
    beforeAll(async () => {
      c = env.client({ user: USER, pass: PASS, deviceId: `GAL${id}`, version });
      await c.provision();
      await c.folderSync();
    });

    async function gal(query: string, options: unknown[] = []) {
      const r = await c.send("Search", el("Search:Search", el("Search:Store", el("Search:Name", "GAL"), el("Search:Query", query), el("Search:Options", el("Search:Range", "0-49"), ...(options as never[])))));
      expect(r.status).toBe(200);
      const store = kid(kid(r.doc!, "Search:Response"), "Search:Store")!;
      expect(kidText(store, "Search:Status")).toBe("1");
      return kids(store, "Search:Result").map((x) => kid(x, "Search:Properties")!);
    }
    const prop = (p: ReturnType<typeof kid>, name: string) => kidText(p, `GAL:${name}`);

    test("Search GAL splits display names into first and last name", async () => {
      const [ada] = await gal("lovelace");
      expect([prop(ada, "DisplayName"), prop(ada, "FirstName"), prop(ada, "LastName"), prop(ada, "EmailAddress"), prop(ada, "Alias")]).toEqual(["Ada Lovelace", "Ada", "Lovelace", USER, "ada"]);
      const [jan] = await gal("jan@");
      expect([prop(jan, "DisplayName"), prop(jan, "FirstName"), prop(jan, "LastName")]).toEqual(["van der Berg, Jan", "Jan", "van der Berg"]);
      const [ludwig] = await gal("beethoven");
      expect([prop(ludwig, "FirstName"), prop(ludwig, "LastName")]).toEqual(["Ludwig", "van Beethoven"]);
    });

    test("an account without a display name: the address as DisplayName, no first or last name", async () => {
      const found = await gal("anonymous");
      expect(found.length).toBe(1);
      expect(prop(found[0], "DisplayName")).toBe("anonymous@example.test");
      expect(prop(found[0], "EmailAddress")).toBe("anonymous@example.test");
      expect(kid(found[0], "GAL:FirstName")).toBeUndefined();
      expect(kid(found[0], "GAL:LastName")).toBeUndefined();
      // a group alias is shown by its address, with no first name either
      const [team] = await gal("team");
      expect([prop(team, "DisplayName"), prop(team, "FirstName")]).toEqual(["team@example.test", undefined]);
    });

    test("a requested picture: GAL Status 173 (the directory keeps no photos)", async () => {
      const [ada] = await gal("lovelace", [el("Search:Picture", el("Search:MaxSize", "10240"), el("Search:MaxPictures", "5"))]);
      expect(kidText(kid(ada, "GAL:Picture"), "GAL:Status")).toBe("173");
      expect(kid(kid(ada, "GAL:Picture"), "GAL:Data")).toBeUndefined();
    });

    const resolve = (tos: string[], options: unknown[] = []) =>
      c.send("ResolveRecipients", el("ResolveRecipients:ResolveRecipients", tos.map((t) => el("ResolveRecipients:To", t)), options.length > 0 && el("ResolveRecipients:Options", ...(options as never[]))));
    const availability = (start: string, end?: string) =>
      el("ResolveRecipients:Availability", el("ResolveRecipients:StartTime", start), end !== undefined && el("ResolveRecipients:EndTime", end));
    const topStatus = async (tos: string[], options: unknown[] = []) => kidText((await resolve(tos, options)).doc!, "ResolveRecipients:Status");

    test("ResolveRecipients: certificates Status 7 and MergedFreeBusy from the CalDAV calendar", async () => {
      const r = await resolve([USER], [el("ResolveRecipients:CertificateRetrieval", "2"), availability("2026-03-02T08:00:00.000Z", "2026-03-02T13:00:00.000Z")]);
      expect(kidText(r.doc!, "ResolveRecipients:Status")).toBe("1");
      const resp = kid(r.doc!, "ResolveRecipients:Response")!;
      expect([kidText(resp, "ResolveRecipients:To"), kidText(resp, "ResolveRecipients:Status"), kidText(resp, "ResolveRecipients:RecipientCount")]).toEqual([USER, "1", "1"]);
      const rec = kid(resp, "ResolveRecipients:Recipient")!;
      expect([kidText(rec, "ResolveRecipients:Type"), kidText(rec, "ResolveRecipients:DisplayName"), kidText(rec, "ResolveRecipients:EmailAddress")]).toEqual(["1", "Ada Lovelace", USER]);
      const av = kid(rec, "ResolveRecipients:Availability")!;
      expect(kidText(av, "ResolveRecipients:Status")).toBe("1");
      // 08:00 busy, 08:30 free, 09:00-10:00 busy, 10:00-11:00 tentative, 11:00 free (transparent), 11:30 busy over tentative, 12:00 weekly busy, 12:30 free
      expect(kidText(av, "ResolveRecipients:MergedFreeBusy")).toBe("2022110220");
      const certs = kid(rec, "ResolveRecipients:Certificates")!;
      expect([kidText(certs, "ResolveRecipients:Status"), kidText(certs, "ResolveRecipients:CertificateCount")]).toEqual(["7", "0"]);
      expect(kid(certs, "ResolveRecipients:Certificate")).toBeUndefined();
    });

    test("a group of more than 20 members: Availability Status 161", async () => {
      const r = await resolve(["everyone@example.test"], [availability("2026-03-02T08:00:00.000Z", "2026-03-02T10:00:00.000Z")]);
      const resp = kid(r.doc!, "ResolveRecipients:Response")!;
      expect(kidText(resp, "ResolveRecipients:Status")).toBe("1");
      const av = kid(kid(resp, "ResolveRecipients:Recipient"), "ResolveRecipients:Availability");
      expect(kidText(av, "ResolveRecipients:Status")).toBe("161");
      expect(kid(av, "ResolveRecipients:MergedFreeBusy")).toBeUndefined();
    });

    test("a group merges its members' free/busy; no EndTime means seven days", async () => {
      const r = await resolve(["team@example.test"], [availability("2026-03-02T08:00:00.000Z", "2026-03-02T10:00:00.000Z")]);
      const rec = kid(kid(r.doc!, "ResolveRecipients:Response"), "ResolveRecipients:Recipient");
      expect(kidText(kid(rec, "ResolveRecipients:Availability"), "ResolveRecipients:MergedFreeBusy")).toBe("2222");
      const week = await resolve([USER], [availability("2026-03-02T08:00:00.000Z")]);
      const fb = kidText(kid(kid(kid(week.doc!, "ResolveRecipients:Response"), "ResolveRecipients:Recipient"), "ResolveRecipients:Availability"), "ResolveRecipients:MergedFreeBusy")!;
      expect(fb.length).toBe(7 * 48);
      expect(fb.slice(0, 10)).toBe("2022110220");
      expect(fb.slice(7 * 48 - 8)).toBe("00000000");
    });

    test("unknown and outside recipients: Status 4, and a contact's address without free/busy (163)", async () => {
      const r = await resolve(["nobody@elsewhere.test", "zoe@elsewhere.test", "Zoe"], [el("ResolveRecipients:CertificateRetrieval", "3"), availability("2026-03-02T08:00:00.000Z", "2026-03-02T09:00:00.000Z")]);
      expect(kidText(r.doc!, "ResolveRecipients:Status")).toBe("1");
      const [unknown, zoe, byName] = kids(r.doc!, "ResolveRecipients:Response");
      expect([kidText(unknown, "ResolveRecipients:Status"), kidText(unknown, "ResolveRecipients:RecipientCount")]).toEqual(["4", "0"]);
      expect(kid(unknown, "ResolveRecipients:Recipient")).toBeUndefined();
      const rec = kid(zoe, "ResolveRecipients:Recipient")!;
      expect(kidText(zoe, "ResolveRecipients:Status")).toBe("1");
      expect([kidText(rec, "ResolveRecipients:Type"), kidText(rec, "ResolveRecipients:DisplayName"), kidText(rec, "ResolveRecipients:EmailAddress")]).toEqual(["2", "Zoe Outside", "zoe@elsewhere.test"]);
      expect(kidText(kid(rec, "ResolveRecipients:Availability"), "ResolveRecipients:Status")).toBe("163");
      expect(kid(kid(rec, "ResolveRecipients:Availability"), "ResolveRecipients:MergedFreeBusy")).toBeUndefined();
      expect(kidText(kid(rec, "ResolveRecipients:Certificates"), "ResolveRecipients:Status")).toBe("7");
      expect(kidText(kid(byName, "ResolveRecipients:Recipient"), "ResolveRecipients:EmailAddress")).toBe("zoe@elsewhere.test");
      // a To in header form resolves by its address and is echoed as sent
      const header = kid((await resolve(['"Ada L." <ADA@example.test>'])).doc!, "ResolveRecipients:Response")!;
      expect([kidText(header, "ResolveRecipients:To"), kidText(header, "ResolveRecipients:Status"), kidText(kid(header, "ResolveRecipients:Recipient"), "ResolveRecipients:EmailAddress")]).toEqual(['"Ada L." <ADA@example.test>', "1", USER]);
    });

    test("an ambiguous name: suggestions without free/busy, Status 3 when MaxAmbiguousRecipients cuts them", async () => {
      const all = kid((await resolve(["van"], [availability("2026-03-02T08:00:00.000Z", "2026-03-02T09:00:00.000Z")])).doc!, "ResolveRecipients:Response")!;
      expect(kidText(all, "ResolveRecipients:Status")).toBe("2");
      const recs = kids(all, "ResolveRecipients:Recipient");
      expect(recs.map((x) => kidText(x, "ResolveRecipients:EmailAddress")).sort()).toEqual(["jan@example.test", "ludwig@example.test"]);
      expect(Number(kidText(all, "ResolveRecipients:RecipientCount"))).toBe(recs.length);
      for (const x of recs) expect(kid(x, "ResolveRecipients:Availability")).toBeUndefined();
      const cut = kid((await resolve(["van"], [el("ResolveRecipients:MaxAmbiguousRecipients", "1")])).doc!, "ResolveRecipients:Response")!;
      expect([kidText(cut, "ResolveRecipients:Status"), kidText(cut, "ResolveRecipients:RecipientCount")]).toEqual(["3", "1"]);
    });

    test("a requested picture: Status 173 per recipient", async () => {
      const r = await resolve([USER], [el("ResolveRecipients:Picture", el("ResolveRecipients:MaxSize", "10240"), el("ResolveRecipients:MaxPictures", "3"))]);
      const rec = kid(kid(r.doc!, "ResolveRecipients:Response"), "ResolveRecipients:Recipient");
      expect(kidText(kid(rec, "ResolveRecipients:Picture"), "ResolveRecipients:Status")).toBe("173");
    });

    test("absurd time spans and bad options: Status 5, no HTTP error", async () => {
      const day = "2026-03-02T08:00:00.000Z";
      expect(await topStatus([USER], [availability(day, "2026-03-01T08:00:00.000Z")])).toBe("5"); // end before start
      expect(await topStatus([USER], [availability(day, "2026-03-02T08:10:00.000Z")])).toBe("5"); // under 30 minutes
      expect(await topStatus([USER], [availability(day, "2026-04-14T08:00:00.000Z")])).toBe("5"); // 43 days
      expect(await topStatus([USER], [availability("2026-13-45T08:00:00.000Z", "2026-03-02T09:00:00.000Z")])).toBe("5");
      expect(await topStatus([USER], [availability("yesterday", "tomorrow")])).toBe("5");
      expect(await topStatus([USER], [el("ResolveRecipients:Availability", el("ResolveRecipients:EndTime", day))])).toBe("5"); // no StartTime
      expect(await topStatus([USER], [el("ResolveRecipients:CertificateRetrieval", "9")])).toBe("5");
      expect(await topStatus([USER], [el("ResolveRecipients:MaxAmbiguousRecipients", "-1")])).toBe("5");
      expect(await topStatus(["x".repeat(300)])).toBe("5");
      // the longest span allowed: 42 days, 2,016 digits
      const r = await resolve([USER], [availability(day, "2026-04-13T08:00:00.000Z")]);
      const fb = kidText(kid(kid(kid(r.doc!, "ResolveRecipients:Response"), "ResolveRecipients:Recipient"), "ResolveRecipients:Availability"), "ResolveRecipients:MergedFreeBusy")!;
      expect(fb.length).toBe(42 * 48);
      expect(fb.slice(0, 10)).toBe("2022110220");
    });

    test("1,000 recipients (and none) get Status 5; 100 are answered one by one", async () => {
      const many = Array.from({ length: 1000 }, (_, i) => `someone${i}@elsewhere.test`);
      const r = await resolve(many, [availability("2026-03-02T08:00:00.000Z", "2026-03-02T09:00:00.000Z")]);
      expect(r.status).toBe(200);
      expect(kidText(r.doc!, "ResolveRecipients:Status")).toBe("5");
      expect(kids(r.doc!, "ResolveRecipients:Response")).toEqual([]);
      const hundred = await resolve([USER, ...many.slice(0, 99)]);
      expect(kidText(hundred.doc!, "ResolveRecipients:Status")).toBe("1");
      const resp = kids(hundred.doc!, "ResolveRecipients:Response");
      expect(resp.length).toBe(100);
      expect(resp.map((x) => kidText(x, "ResolveRecipients:Status"))).toEqual(["1", ...Array(99).fill("4")]);
      const none = await c.send("ResolveRecipients", el("ResolveRecipients:ResolveRecipients", el("ResolveRecipients:Options", el("ResolveRecipients:MaxAmbiguousRecipients", "5"))));
      expect(kidText(none.doc!, "ResolveRecipients:Status")).toBe("5");
    });
  });
}

describe("protocol 12.1", () => {
  test("no Availability before 14.0: the option is left out of the answer, certificates still answered", async () => {
    const c = env.client({ user: USER, pass: PASS, deviceId: "GAL121", version: "12.1" });
    await c.provision();
    const r = await c.send(
      "ResolveRecipients",
      el("ResolveRecipients:ResolveRecipients", el("ResolveRecipients:To", USER), el("ResolveRecipients:Options", el("ResolveRecipients:CertificateRetrieval", "2"))),
    );
    const rec = kid(kid(r.doc!, "ResolveRecipients:Response"), "ResolveRecipients:Recipient");
    expect(kidText(rec, "ResolveRecipients:DisplayName")).toBe("Ada Lovelace");
    expect(kid(rec, "ResolveRecipients:Availability")).toBeUndefined();
    expect(kidText(kid(rec, "ResolveRecipients:Certificates"), "ResolveRecipients:Status")).toBe("7");
  });
});
