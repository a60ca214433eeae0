/**
 * Webmail search (issue 17, mail item 7): the query language (quoted
 * phrases, from:/to:/subject:/filename:/has:attachment/before:/after:),
 * accent-insensitive matching, attachment file names, the chosen sort on
 * results, each result's folder; malformed queries; and the search box in
 * Chromium at desktop and phone sizes. IMAP SEARCH keeps its own semantics.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { ALICE, ApiClient, launchBrowser, login, startWebmailServer } from "./helpers.ts";
import { foldText, MAX_QUERY_CHARS, MAX_TERMS, parseSearchQuery, SearchQueryError } from "../../protocols/http/webmail/search-query.ts";

interface Row {
  id: number;
  subject: string;
  folderId: number;
  folderName: string;
  size: number;
  fromName: string;
}

describe("search query parser", () => {
  test("words, phrases and operators", () => {
    const q = parseSearchQuery(`"Q3 budget" from:müller to: carol subject:"Trip  plan" filename:xlsx has:attachment after:2026-01-01 before:2026/02/01 review`);
    expect(q.terms.map((t) => [t.field, t.raw, t.folded, t.phrase])).toEqual([
      ["text", "Q3 budget", "q3 budget", true],
      ["from", "müller", "muller", false],
      ["to", "carol", "carol", false],
      ["subject", "Trip plan", "trip plan", true],
      ["filename", "xlsx", "xlsx", false],
      ["text", "review", "review", false],
    ]);
    expect(q.hasAttachment).toBe(true);
    expect(q.after).toBe(Date.UTC(2026, 0, 1));
    expect(q.before).toBe(Date.UTC(2026, 1, 1));
  });

  test("folding: case, accents, letters without a decomposition", () => {
    expect(foldText("Müller GENÈVE Straße Ærø Œuvre Łódź")).toBe("muller geneve strasse aero oeuvre lodz");
    expect(foldText("a \t\r\n b")).toBe("a b");
  });

  test("malformed queries: unbalanced quotes, empty operators, unknown words stay text", () => {
    // an unclosed quote runs to the end
    expect(parseSearchQuery(`"Q3 budget`).terms.map((t) => [t.raw, t.phrase])).toEqual([["Q3 budget", true]]);
    expect(parseSearchQuery(`plan "`).terms.map((t) => t.raw)).toEqual(["plan"]);
    expect(parseSearchQuery(`""`).terms).toEqual([]);
    // typographic quotes (phones) are quotes
    expect(parseSearchQuery("\u201cQ3 budget\u201d").terms[0].raw).toBe("Q3 budget");
    // an operator with nothing after it is ignored; one followed by another operator does not swallow it
    expect(parseSearchQuery("from:").terms).toEqual([]);
    expect(parseSearchQuery("from: subject:x").terms.map((t) => [t.field, t.raw])).toEqual([["subject", "x"]]);
    // not an operator: searched as a word
    expect(parseSearchQuery("re:budget").terms.map((t) => [t.field, t.raw])).toEqual([["text", "re:budget"]]);
    expect(parseSearchQuery("10:30").terms.map((t) => t.raw)).toEqual(["10:30"]);
    // only combining marks: nothing to look for
    expect(parseSearchQuery("\u0301\u0301").terms).toEqual([]);
  });

  test("bounded: 10,000 terms, over-long queries, absurd dates, unknown has:", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(" ");
    expect(() => parseSearchQuery(many)).toThrow(SearchQueryError);
    expect(() => parseSearchQuery("x".repeat(MAX_QUERY_CHARS + 1))).toThrow(`limited to ${MAX_QUERY_CHARS} characters`);
    const words = Array.from({ length: MAX_TERMS + 1 }, (_, i) => `w${i}`).join(" ");
    expect(() => parseSearchQuery(words)).toThrow(`at most ${MAX_TERMS} words`);
    expect(parseSearchQuery(words.split(" ").slice(0, MAX_TERMS).join(" ")).terms.length).toBe(MAX_TERMS);
    for (const d of ["2026-13-45", "20261345T000000Z", "2026-02-30", "0000-01-01", "99999-01-01", "yesterday", "2026-1-1x"]) {
      expect(() => parseSearchQuery(`before:${d}`)).toThrow("is not a date");
    }
    expect(parseSearchQuery("after:2026-2-3").after).toBe(Date.UTC(2026, 1, 3));
    expect(() => parseSearchQuery("has:spoon")).toThrow("use has:attachment");
  });
});

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
const enc = new TextEncoder();
let projectsId = 0;

function mime(p: { from: string; to?: string; subject: string; body: string; date: string; file?: string; id: string }): Uint8Array {
  const head = `From: ${p.from}\r\nTo: ${p.to ?? ALICE.email}\r\nSubject: ${p.subject}\r\nDate: ${p.date}\r\nMessage-ID: <${p.id}@example.org>\r\nMIME-Version: 1.0\r\n`;
  if (!p.file) return enc.encode(`${head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${p.body}\r\n`);
  return enc.encode(
    `${head}Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${p.body}\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="${p.file}"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b1--\r\n`,
  );
}

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
  const projects = await srv.store.createFolder(a.id, "Projects");
  projectsId = projects.id;
  const filler = "Lorem ipsum dolor sit amet. ".repeat(40); // pushes later words past the 200-character preview
  await srv.store.append(projects.id, [
    { raw: mime({ id: "q3", from: "=?utf-8?Q?Hans_M=C3=BCller?= <hans@example.org>", subject: "Q3 budget review", body: "Numbers are attached.", date: "Tue, 10 Feb 2026 10:00:00 +0000", file: "Budget-Q3-final.xlsx" }), internalDate: Date.UTC(2026, 1, 10) },
  ]);
  await srv.store.append(inbox.id, [
    { raw: mime({ id: "q4", from: "Ops <ops@example.org>", subject: "Budget for Q4", body: "The Q3 numbers were fine; the budget is next.", date: "Mon, 12 Jan 2026 10:00:00 +0000" }), internalDate: Date.UTC(2026, 0, 12) },
    { raw: mime({ id: "trip", from: "Ops <ops@example.org>", to: "Carol <carol@example.test>", subject: "Trip to Genève", body: `${filler}We meet at the station.`, date: "Sun, 15 Mar 2026 10:00:00 +0000" }), internalDate: Date.UTC(2026, 2, 15) },
    { raw: mime({ id: "zurich", from: "Lee <lee@example.org>", subject: "Plans", body: `${filler}Then on to Zurich by train.`, date: "Fri, 20 Mar 2026 10:00:00 +0000" }), internalDate: Date.UTC(2026, 2, 20) },
    { raw: mime({ id: "old", from: "Ann <ann@example.org>", subject: "Old budget", body: "From last year.", date: "Wed, 10 Dec 2025 10:00:00 +0000" }), internalDate: Date.UTC(2025, 11, 10) },
  ]);
  alice = await ApiClient.signIn(srv.base, ALICE);
}, 60_000);

afterAll(async () => {
  await srv?.close();
});

async function search(q: string, extra = ""): Promise<Row[]> {
  const r = await alice.ok<{ items: Row[] }>("GET", `/api/search?q=${encodeURIComponent(q)}${extra}`);
  return r.items;
}
const subjects = (rows: Row[]) => rows.map((r) => r.subject).sort();

describe("webmail search API", () => {
  test('a quoted phrase finds only the words together ("Q3 budget")', async () => {
    expect(subjects(await search('"Q3 budget"'))).toEqual(["Q3 budget review"]);
    // unquoted, each word on its own (anywhere in the message)
    expect(subjects(await search("Q3 budget"))).toEqual(["Budget for Q4", "Q3 budget review"]);
  });

  test("accent-insensitive: muller -> Müller, geneve -> Genève, and an accented word finds the plain spelling", async () => {
    expect(subjects(await search("muller"))).toEqual(["Q3 budget review"]);
    expect(subjects(await search("geneve"))).toEqual(["Trip to Genève"]);
    expect(subjects(await search("GENEVE"))).toEqual(["Trip to Genève"]);
    // "Zurich" stands past the preview, in the body: found through the full-text index with the folded word
    expect(subjects(await search("Zürich"))).toEqual(["Plans"]);
    expect(subjects(await search("zurich"))).toEqual(["Plans"]);
  });

  test("attachment file names", async () => {
    expect(subjects(await search("final.xlsx"))).toEqual(["Q3 budget review"]);
    expect(subjects(await search("filename:xlsx"))).toEqual(["Q3 budget review"]);
    expect(await search("filename:budget has:attachment")).toHaveLength(1);
  });

  test("operators: from:, to:, subject:, has:attachment, before:, after:", async () => {
    expect(subjects(await search("from:müller"))).toEqual(["Q3 budget review"]);
    expect(subjects(await search("from:ops@example.org"))).toEqual(["Budget for Q4", "Trip to Genève"]);
    expect(subjects(await search("to:carol"))).toEqual(["Trip to Genève"]);
    // subject: looks at the subject only ("budget" is also in a body)
    expect(subjects(await search("subject:budget"))).toEqual(["Budget for Q4", "Old budget", "Q3 budget review"]);
    expect(subjects(await search("has:attachment"))).toEqual(["Q3 budget review"]);
    expect(subjects(await search("budget before:2026-01-01"))).toEqual(["Old budget"]);
    expect(subjects(await search("budget after:2026-01-01 before:2026-02-01"))).toEqual(["Budget for Q4"]);
    // the filter panel's fields still work and combine with the box
    expect(subjects(await search("budget", "&from=ops%40example.org"))).toEqual(["Budget for Q4"]);
  });

  test("before:/after: name days in the user's time zone (settings timeZone), not UTC days", async () => {
    const a = (await srv.store.getAccount(ALICE.email))!;
    const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
    // 21:30 on 5 March in New York is 02:30 on 6 March in UTC.
    const at = Date.UTC(2026, 2, 6, 2, 30);
    await srv.store.append(inbox.id, [{ raw: mime({ id: "late", from: "Ann <ann@example.org>", subject: "Late evening note", body: "Sent after dinner.", date: "Thu, 05 Mar 2026 21:30:00 -0500" }), internalDate: at }]);
    try {
      expect(subjects(await search("note after:2026-03-06"))).toEqual(["Late evening note"]); // a UTC day
      await alice.ok("PUT", "/api/settings", { timeZone: "America/New_York" });
      expect(subjects(await search("note after:2026-03-05 before:2026-03-06"))).toEqual(["Late evening note"]);
      expect(subjects(await search("note after:2026-03-06"))).toEqual([]);
      expect(subjects(await search("note", "&after=2026-03-05&before=2026-03-06"))).toEqual(["Late evening note"]);
    } finally {
      await alice.ok("PUT", "/api/settings", { timeZone: "" });
    }
  });

  test("the chosen sort applies to results, and each result names its folder", async () => {
    const bySubject = await search("subject:budget", "&sort=subject&order=asc");
    expect(bySubject.map((r) => r.subject)).toEqual(["Budget for Q4", "Old budget", "Q3 budget review"]);
    const bySubjectDesc = await search("subject:budget", "&sort=subject&order=desc");
    expect(bySubjectDesc.map((r) => r.subject)).toEqual(["Q3 budget review", "Old budget", "Budget for Q4"]);
    const newest = await search("subject:budget");
    expect(newest.map((r) => r.subject)).toEqual(["Q3 budget review", "Budget for Q4", "Old budget"]);
    const oldest = await search("subject:budget", "&sort=date&order=asc");
    expect(oldest.map((r) => r.subject)).toEqual(["Old budget", "Budget for Q4", "Q3 budget review"]);
    const bySize = await search("subject:budget", "&sort=size&order=desc");
    expect(bySize.map((r) => r.size)).toEqual([...bySize.map((r) => r.size)].sort((a, b) => b - a));
    const q3 = newest.find((r) => r.subject === "Q3 budget review")!;
    expect([q3.folderId, q3.folderName]).toEqual([projectsId, "Projects"]);
    expect(newest.find((r) => r.subject === "Old budget")!.folderName).toBe("Inbox");
    // one folder only
    expect(subjects(await search("budget", `&folderId=${projectsId}`))).toEqual(["Q3 budget review"]);
  });

  test("malformed queries get a 400 with a message, never a 500", async () => {
    for (const [q, msg] of [
      ["before:2026-13-45", "is not a date"],
      ["after:20261345T000000Z", "is not a date"],
      ["has:spoon", "use has:attachment"],
      ["a ".repeat(1000), "limited to"],
      [Array.from({ length: 40 }, (_, i) => `w${i}`).join(" "), "at most"],
    ] as const) {
      const res = await alice.get(`/api/search?q=${encodeURIComponent(q)}`);
      expect([q.length, res.status, res.text.slice(0, 200)]).toEqual([q.length, 400, expect.stringContaining(msg)]);
    }
    // 10,000 terms make a URL longer than the HTTP server reads: refused before the API
    const huge = await alice.get(`/api/search?q=${encodeURIComponent(Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(" "))}`);
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    for (const q of ["", "from:", '""', "   "]) expect((await alice.get(`/api/search?q=${encodeURIComponent(q)}`)).status).toBe(400);
    // an unbalanced quote is forgiven
    expect(subjects(await search('"Q3 budget'))).toEqual(["Q3 budget review"]);
  });

  test("IMAP SEARCH semantics are unchanged: the store's text search stays an exact substring", async () => {
    const a = (await srv.store.getAccount(ALICE.email))!;
    const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
    expect(await srv.store.searchText(inbox.id, "text", "geneve")).toEqual([]);
    expect((await srv.store.searchText(inbox.id, "text", "Genève")).length).toBe(1);
  });
});

describe("search box in Chromium", () => {
  for (const size of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 390, height: 844 },
  ]) {
    test(`${size.name}: a quoted phrase and an unaccented name find the messages, each row shows its folder`, async () => {
      const b = await launchBrowser();
      try {
        const page = b.page;
        page.setDefaultTimeout(10_000);
        await page.setViewportSize({ width: size.width, height: size.height });
        await login(page, srv.base, ALICE);
        const box = page.locator('input[name="q"]');
        await box.fill('"Q3 budget"');
        await box.press("Enter");
        await page.locator(".list-title", { hasText: "Search results" }).waitFor();
        const rows = page.locator(".row[data-id]");
        await page.waitForFunction(() => document.querySelectorAll(".row[data-id]").length === 1 && !!document.querySelector(".row[data-id] .row-folder"));
        expect(await rows.locator(".row-subject").allTextContents()).toEqual(["Q3 budget review"]);
        expect(await rows.locator(".row-folder").allTextContents()).toEqual(["Projects"]);
        // the folder label stays inside the row at this width
        const inside = await rows.first().evaluate((row) => {
          const f = row.querySelector(".row-folder")!.getBoundingClientRect();
          const r = row.getBoundingClientRect();
          return f.right <= r.right + 0.5 && f.width > 10;
        });
        expect(inside).toBe(true);

        await box.fill("geneve");
        await box.press("Enter");
        await page.waitForFunction(() => [...document.querySelectorAll(".row[data-id] .row-subject")].map((e) => e.textContent).join("|") === "Trip to Genève");
        expect(await rows.locator(".row-folder").allTextContents()).toEqual(["Inbox"]);

        // the sort menu reorders the results
        await box.fill("subject:budget");
        await box.press("Enter");
        await page.waitForFunction(() => document.querySelectorAll(".row[data-id]").length === 3);
        expect(await rows.locator(".row-subject").allTextContents()).toEqual(["Q3 budget review", "Budget for Q4", "Old budget"]);
        await page.selectOption("select.sort", "subject:asc");
        await page.waitForFunction(() => document.querySelector(".row[data-id] .row-subject")?.textContent === "Budget for Q4");
        expect(await rows.locator(".row-subject").allTextContents()).toEqual(["Budget for Q4", "Old budget", "Q3 budget review"]);

        // a date that does not exist is explained, not a failure
        await box.fill("budget before:2026-13-45");
        await box.press("Enter");
        await page.locator(".toasts", { hasText: "is not a date" }).waitFor();
      } finally {
        await b.close();
      }
    }, 60_000);
  }
});
