/**
 * Interpreter, extensions: variables, imap4flags, relational, date/index,
 * editheader, reject, vacation, duplicate, spamtest, environment, mailbox
 * and metadata.
 */
import { describe, expect, test } from "bun:test";
import { dec, holds, msg, run, summary } from "./interpret-helpers.ts";
import { parseHeaderBlock } from "../../mail/headers.ts";

describe("variables (RFC 5229)", () => {
  test("set with modifiers, ${} expansion in action arguments, string test", async () => {
    const out = await run(`require ["variables","fileinto","mailbox"];
      set :lower :upperfirst "box" "ACCOUNTS";
      set :length "n" "héllo";
      if string :is "\${n}" "5" { fileinto :create "\${box}"; }`);
    expect(summary(out).actions).toEqual([{ type: "fileinto", mailbox: "Accounts", create: true, copy: false, flags: [] }]);
  });

  test(":matches captures ${1} from the last successful match only", async () => {
    const out = await run(`require ["variables","fileinto","mailbox"];
      if header :matches "subject" "* report" { set "s" "\${1}"; }
      if header :matches "subject" "nothing*" { set "s" "wrong"; }
      if address :matches :domain "from" "*.org" { fileinto :create "\${1}/\${s}"; }`);
    expect(out.actions[0]).toMatchObject({ type: "fileinto", mailbox: "example/Hello Wörld" });
  });

  test("string :count ignores empty strings", async () => {
    expect(await holds('string :count "eq" :comparator "i;ascii-numeric" ["a","","b"] "2"', { require: ["variables", "relational", "comparator-i;ascii-numeric"] })).toBe(true);
  });

  test("too many variables is a runtime error; long values are cut", async () => {
    const sets = Array.from({ length: 5 }, (_, i) => `set "v${i}" "x";`).join("\n");
    const out = await run(`require "variables";\n${sets}`, { limits: { maxVariables: 3 } });
    expect(out.error?.message).toMatch(/variables/);
    expect(out.implicitKeep).toBe(true);
    const cut = await run(`require ["variables","fileinto","mailbox"]; set "a" "${"x".repeat(50)}"; fileinto :create "\${a}";`, { limits: { maxVariableBytes: 10 } });
    expect(cut.actions[0]).toMatchObject({ mailbox: "xxxxxxxxxx" });
  });
});

describe("imap4flags (RFC 5232)", () => {
  test("the internal variable goes to keep, fileinto and the implicit keep", async () => {
    const out = await run(`require ["imap4flags","fileinto"];
      setflag "\\\\seen";
      addflag ["\\\\Flagged work", "work"];
      fileinto "Accounts";
      removeflag "\\\\Seen";
      keep;
      fileinto :flags "\\\\Answered" "Lists";`);
    expect(summary(out).actions).toEqual([
      { type: "fileinto", mailbox: "Accounts", create: false, copy: false, flags: ["\\Seen", "\\Flagged", "work"] },
      { type: "keep", flags: ["\\Flagged", "work"] },
      { type: "fileinto", mailbox: "Lists", create: false, copy: false, flags: ["\\Answered"] },
    ]);
  });

  test("implicit keep flags, hasflag, and a variable name form", async () => {
    const out = await run(`require ["imap4flags","variables","fileinto","relational","comparator-i;ascii-numeric"];
      addflag "\\\\Seen";
      addflag "mine" ["a", "b"];
      if hasflag :is "\\\\seen" { addflag "seen-ok"; }
      if hasflag :is "mine" "b" { addflag "var-ok"; }
      if hasflag :count "eq" :comparator "i;ascii-numeric" "mine" "2" { addflag "count-ok"; }`);
    expect(out.error).toBeUndefined();
    expect(out.implicitKeep).toBe(true);
    expect(out.implicitKeepFlags).toEqual(["\\Seen", "seen-ok", "var-ok", "count-ok"]);
    // keys are flag lists: either flag of the key may be set
    expect(await holds('hasflag :is "\\\\Answered \\\\Seen"', { require: ["imap4flags"], message: undefined })).toBe(false);
    const both = await run('require ["imap4flags","fileinto"]; addflag "\\\\Seen"; if hasflag :is "\\\\Answered \\\\Seen" { fileinto "Lists"; }');
    expect(both.actions[0]).toMatchObject({ mailbox: "Lists" });
  });

  test("invalid flags are not stored; \\Recent is not a flag a script sets", async () => {
    const out = await run('require "imap4flags"; addflag ["\\\\Recent", "\\\\Bogus", "ok", "a(b"];');
    expect(out.implicitKeepFlags).toEqual(["ok"]);
  });

  test("addflag 10,000 times stays bounded: the list stays one flag", async () => {
    const body = Array.from({ length: 10_000 }, () => 'addflag "same";').join("\n");
    const out = await run(`require "imap4flags";\n${body}`, { limits: { maxScriptBytes: 1 << 20 } });
    expect(out.error).toBeUndefined();
    expect(out.implicitKeepFlags).toEqual(["same"]);
    const many = Array.from({ length: 3000 }, (_, i) => `addflag "f${i}";`).join("\n");
    const big = await run(`require "imap4flags";\n${many}`, { limits: { maxScriptBytes: 1 << 20 } });
    expect(big.error?.message).toContain("flag list");
    expect(big.implicitKeep).toBe(true);
  });
});

describe("body (RFC 5173)", () => {
  const MULTI = msg(`From: a@x.org
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

This is the preamble.
--b1
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 invoice attached
--b1
Content-Type: text/html; charset=utf-8

<html><body><p>Hello <b>HTML</b> world</p><script>evil()</script></body></html>
--b1
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

U0VDUkVUIGJ5dGVz
--b1--
The epilogue.
`);
  const r = { require: ["body"], message: MULTI };
  test(":text decodes text parts and turns HTML into text", async () => {
    expect(await holds('body :contains "Café invoice"', r)).toBe(true);
    expect(await holds('body :text :contains "Hello HTML world"', r)).toBe(true);
    expect(await holds('body :text :contains "evil"', r)).toBe(false);
    expect(await holds('body :text :contains "SECRET"', r)).toBe(false);
  });
  test(":raw is the undecoded body", async () => {
    expect(await holds('body :raw :contains "Caf=E9"', r)).toBe(true);
    expect(await holds('body :raw :contains "U0VDUkVUIGJ5dGVz"', r)).toBe(true);
  });
  test(":content selects parts by type; multipart gives preamble and epilogue", async () => {
    expect(await holds('body :content "application/octet-stream" :contains "SECRET bytes"', r)).toBe(true);
    expect(await holds('body :content "text/html" :contains "<b>HTML</b>"', r)).toBe(true);
    expect(await holds('body :content "text" :contains "Café"', r)).toBe(true);
    expect(await holds('body :content "multipart" :contains "preamble"', r)).toBe(true);
    expect(await holds('body :content "multipart" :contains "epilogue"', r)).toBe(true);
    expect(await holds('body :content "multipart" :contains "Café"', r)).toBe(false);
    expect(await holds('body :content "text/" :contains ""', r)).toBe(false);
  });
  test("body :matches leaves the match variables as they were (as Pigeonhole)", async () => {
    const out = await run('require ["body","variables","fileinto","mailbox"]; if header :matches "subject" "m*" { } if body :matches "*Café*" { fileinto :create "x${1}"; }', r);
    expect(out.actions[0]).toMatchObject({ mailbox: "xixed" });
  });

  test("a plain message is its own text part", async () => {
    expect(await holds('body :contains "invoice"', { require: ["body"] })).toBe(true);
  });
});

describe("relational, date, index (RFC 5231, RFC 5260)", () => {
  test(":value and :count", async () => {
    const req = { require: ["relational", "comparator-i;ascii-numeric"] };
    expect(await holds('header :value "gt" :comparator "i;ascii-numeric" "x-tag" "0"', { ...req, message: msg("X-Tag: 5\n\nb\n") })).toBe(true);
    expect(await holds('address :count "ge" :comparator "i;ascii-numeric" ["to","cc"] "2"', req)).toBe(true);
  });

  test("date parts in the local zone, :zone and :originalzone", async () => {
    const req = ["date", "relational"];
    // Date: Tue, 1 Dec 2026 10:30:00 +0100 -> 09:30 UTC
    expect(await holds('date :is "date" "hour" "09"', { require: req })).toBe(true);
    expect(await holds('date :originalzone :is "date" "hour" "10"', { require: req })).toBe(true);
    expect(await holds('date :zone "-0500" :is "date" "time" "04:30:00"', { require: req })).toBe(true);
    expect(await holds('date :originalzone :is "date" "zone" "+0100"', { require: req })).toBe(true);
    expect(await holds('date :is "date" "date" "2026-12-01"', { require: req })).toBe(true);
    expect(await holds('date :is "date" "weekday" "2"', { require: req })).toBe(true);
    expect(await holds('date :is "date" "julian" "61375"', { require: req })).toBe(true);
    expect(await holds('date :originalzone :is "date" "iso8601" "2026-12-01T10:30:00+01:00"', { require: req })).toBe(true);
    expect(await holds('date :is "date" "std11" "Tue, 01 Dec 2026 09:30:00 +0000"', { require: req })).toBe(true);
  });

  test("a missing or bad date makes the test false", async () => {
    expect(await holds('date :matches "x-none" "year" "*"', { require: ["date"] })).toBe(false);
    expect(await holds('date :matches "date" "year" "*"', { require: ["date"], message: msg("Date: yesterday-ish\n\nb\n") })).toBe(false);
    // ISO 8601 and ctime forms are not RFC 5322 dates (Pigeonhole finds no date in them either)
    expect(await holds('date :matches "date" "year" "*"', { require: ["date"], message: msg("Date: 2026-12-01T10:30:00Z\n\nb\n") })).toBe(false);
    expect(await holds('date :matches "date" "year" "*"', { require: ["date"], message: msg("Date: Tue Dec  1 10:30:00 2026\n\nb\n") })).toBe(false);
    expect(await holds('date :is "date" "zone" "-0500"', { require: ["date"], message: msg("Date: Tue, 01 Dec 26 10:30:00 EST\n\nb\n"), zone: -300 })).toBe(true);
  });

  test("Received dates come from after the last semicolon; :index/:last pick one field", async () => {
    const m = msg(`Received: from a by b; Mon, 30 Nov 2026 08:00:00 +0000
Received: from c by d; Sun, 29 Nov 2026 07:00:00 +0000
Subject: x

b
`);
    const req = ["date", "index"];
    expect(await holds('date :index 1 :is "received" "day" "30"', { require: req, message: m })).toBe(true);
    expect(await holds('date :index 1 :last :is "received" "day" "29"', { require: req, message: m })).toBe(true);
    expect(await holds('header :index 2 :contains "received" "from c"', { require: req, message: m })).toBe(true);
    expect(await holds('header :index 3 :contains "received" ""', { require: req, message: m })).toBe(false);
    // with several names the fields are counted name by name in the order listed (as Pigeonhole)
    const ab = msg("X-A: 1\nX-B: 2\nX-A: 3\n\nb\n");
    expect(await holds('header :index 2 :is ["x-a","x-b"] "3"', { require: req, message: ab })).toBe(true);
    expect(await holds('header :index 1 :last :is ["x-b","x-a"] "3"', { require: req, message: ab })).toBe(true);
    expect(await holds('header :index 1 :last :is ["x-b","x-a"] "2"', { require: req, message: ab })).toBe(false);
  });

  test("currentdate uses the run's clock and zone", async () => {
    expect(await holds('currentdate :is "date" "2026-12-07"', { require: ["date"] })).toBe(true);
    expect(await holds('currentdate :zone "+0700" :is "hour" "01"', { require: ["date"] })).toBe(true);
    expect(await holds('currentdate :is "hour" "20"', { require: ["date"], zone: 120 })).toBe(true);
  });
});

describe("editheader (RFC 5293)", () => {
  test("addheader/deleteheader are seen by later tests and recorded by later actions", async () => {
    const out = await run(`require ["editheader","fileinto"];
      fileinto "Lists";
      addheader "X-Filtered" "yes";
      addheader :last "X-Note" "Grüße aus Köln";
      deleteheader "x-tag";
      if header :is "x-filtered" "yes" { fileinto "Accounts"; }
      if exists "x-tag" { fileinto "Junk"; }`);
    expect(out.actions.map((a) => (a.type === "fileinto" ? a.mailbox : a.type))).toEqual(["Lists", "Accounts"]);
    expect((out.actions[0] as { message?: Uint8Array }).message).toBeUndefined(); // before the edits
    const edited = (out.actions[1] as { message?: Uint8Array }).message;
    expect(edited).toBeDefined();
    const text = dec.decode(edited);
    expect(text.startsWith("X-Filtered: yes\r\n")).toBe(true);
    expect(text).not.toContain("X-Tag:");
    expect(text).toContain("X-Note: =?UTF-8?B?");
    expect(text.endsWith("this is the body with an invoice.\r\n")).toBe(true);
    const fields = parseHeaderBlock(edited!, 0, edited!.length).fields;
    expect(fields[fields.length - 1].key).toBe("x-note");
    expect(dec.decode(out.message)).toBe(text);
  });

  test("deleteheader with :index, :last and value patterns", async () => {
    const m = msg("X-A: 1\nX-A: 2\nX-A: 3\nX-A: 22\n\nb\n");
    const left = async (cmd: string) => {
      const out = await run(`require ["editheader","index"]; ${cmd}`, { message: m });
      return parseHeaderBlock(out.message ?? m, 0, (out.message ?? m).length)
        .fields.map((f) => f.value)
        .join(",");
    };
    expect(await left('deleteheader :index 2 "x-a";')).toBe("1,3,22");
    expect(await left('deleteheader :index 1 :last "x-a";')).toBe("1,2,3");
    expect(await left('deleteheader :matches "x-a" "2*";')).toBe("1,3");
    expect(await left('deleteheader :index 4 :contains "x-a" "2";')).toBe("1,2,3");
  });

  test("Received and Auto-Submitted cannot be deleted (added they can, as in Pigeonhole); bad names are runtime errors", async () => {
    const m = msg("Received: from a by b; Mon, 30 Nov 2026 08:00:00 +0000\nAuto-Submitted: auto-replied\n\nb\n");
    const out = await run('require "editheader"; deleteheader "received"; deleteheader "Auto-Submitted"; deleteheader :index 1 "received";', { message: m });
    expect(out.error).toBeUndefined();
    expect(out.message).toBeUndefined();
    const added = await run('require ["editheader","fileinto","index"]; addheader "Received" "forged"; if header :index 1 :is "received" "forged" { fileinto "Lists"; }', { message: m });
    expect(added.actions[0]).toMatchObject({ type: "fileinto", mailbox: "Lists" });
    const bad = await run('require ["editheader","variables"]; set "n" "Bad Name"; addheader "${n}" "v";');
    expect(bad.error?.message).toContain("not a valid header field name");
  });

  test("long values are folded", async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const out = await run(`require "editheader"; addheader "X-Long" "${long}";`);
    const lines = dec.decode(out.message).split("\r\n");
    expect(lines.filter((l) => l.startsWith(" ")).length).toBeGreaterThan(0);
    expect(Math.max(...lines.slice(0, 6).map((l) => l.length))).toBeLessThanOrEqual(78);
    const back = await run(`require ["editheader","fileinto"]; addheader "X-Long" "${long}"; if header :is "x-long" "${long}" { fileinto "Lists"; }`);
    expect(back.actions[0]).toMatchObject({ type: "fileinto", mailbox: "Lists" }); // read back unfolded
  });
});

describe("reject/ereject (RFC 5429)", () => {
  test("reject cancels the implicit keep", async () => {
    const out = await run('require "reject"; reject "go away";');
    expect(summary(out)).toEqual({ actions: [{ type: "reject", reason: "go away", extended: false }], keep: false, flags: [] });
    expect((await run('require "ereject"; ereject "no";')).actions[0]).toEqual({ type: "reject", reason: "no", extended: true });
  });
  test("reject with keep, fileinto, redirect or vacation, and a second reject, are errors", async () => {
    for (const other of ["keep;", 'fileinto "Lists";', 'redirect "a@b.org";', 'vacation "away";']) {
      for (const order of [`reject "no"; ${other}`, `${other} reject "no";`]) {
        const out = await run(`require ["reject","fileinto","vacation"]; ${order}`);
        expect(out.error?.message).toContain("conflicts");
        expect(out.implicitKeep).toBe(true);
      }
    }
    expect((await run('require "reject"; reject "a"; reject "b";')).error?.message).toContain("only one");
    expect((await run('require "reject"; discard; reject "a";')).error).toBeUndefined();
  });
});

describe("vacation (RFC 5230, RFC 6131)", () => {
  test("parameters, the period clamped, a default handle", async () => {
    const out = await run(`require ["vacation","vacation-seconds"];
      vacation :days 3 :subject "Away" :from "Bob <bob@example.com>" :addresses ["b@example.com"] "I am away";`);
    const v = out.actions[0];
    expect(v).toMatchObject({ type: "vacation", periodSeconds: 3 * 86400, subject: "Away", from: "Bob <bob@example.com>", addresses: ["b@example.com"], mime: false, reason: "I am away" });
    expect((v as { handle: string }).handle).toMatch(/^[0-9a-f]{64}$/);
    expect(out.implicitKeep).toBe(true);
    const secs = await run('require ["vacation","vacation-seconds"]; vacation :seconds 60 :handle "h" "x";');
    expect(secs.actions[0]).toMatchObject({ periodSeconds: 86400, handle: "h" });
    const long = await run('require "vacation"; vacation :days 1000 "x";');
    expect(long.actions[0]).toMatchObject({ periodSeconds: 90 * 86400 });
    const dflt = await run('require "vacation"; vacation "x";', { limits: { vacationDefaultSeconds: 2 * 86400 } });
    expect(dflt.actions[0]).toMatchObject({ periodSeconds: 2 * 86400 });
  });
  test("a second vacation and an invalid :from are errors", async () => {
    expect((await run('require "vacation"; vacation "a"; vacation "b";')).error?.message).toContain("only one vacation");
    expect((await run('require ["vacation","variables"]; set "f" "nobody"; vacation :from "${f}" "a";')).error?.message).toContain(":from");
  });
});

describe("duplicate (RFC 7352)", () => {
  test("a new id is recorded, a seen one is true and not refreshed unless :last", async () => {
    const first = await run('require "duplicate"; if duplicate { discard; }');
    expect(first.implicitKeep).toBe(true);
    const rec = first.actions.find((a) => a.type === "duplicate") as { key: string; expirySeconds: number };
    expect(rec.expirySeconds).toBe(12 * 3600);
    const again = await run('require "duplicate"; if duplicate { discard; }', { seen: [rec.key] });
    expect(again.actions.map((a) => a.type)).toEqual(["discard"]);
    const last = await run('require "duplicate"; if duplicate :last :seconds 60 { discard; }', { seen: [rec.key] });
    expect(last.actions).toContainEqual({ type: "duplicate", key: rec.key, expirySeconds: 60 });
  });
  test("handles and :uniqueid/:header give other keys; no Message-ID is false", async () => {
    const a = await run('require "duplicate"; if duplicate :handle "x" { }');
    const b = await run('require "duplicate"; if duplicate :header "subject" { }');
    const c = await run('require ["duplicate","variables"]; set "id" "abc"; if duplicate :uniqueid "${id}" { }');
    const keys = [a, b, c].map((o) => (o.actions[0] as { key: string }).key);
    expect(new Set(keys).size).toBe(3);
    const none = await run('require "duplicate"; if duplicate { discard; }', { message: msg("Subject: x\n\nb\n") });
    expect(none.actions).toEqual([]);
  });
  test("the same id twice in one run answers the same and records once", async () => {
    const out = await run('require "duplicate"; if duplicate { discard; } if duplicate { discard; }');
    expect(out.actions.filter((a) => a.type === "duplicate")).toHaveLength(1);
    expect(out.implicitKeep).toBe(true);
  });
});

describe("spamtest, environment, mailbox, metadata", () => {
  test("spamtest and spamtest :percent; 0 when untested", async () => {
    const req = ["spamtestplus", "relational", "comparator-i;ascii-numeric"];
    const spam = { value: 8, percent: 75 };
    expect(await holds('spamtest :value "ge" :comparator "i;ascii-numeric" "7"', { require: req, spam })).toBe(true);
    expect(await holds('spamtest :percent :value "gt" :comparator "i;ascii-numeric" "70"', { require: req, spam })).toBe(true);
    expect(await holds('spamtest :is "0"', { require: req })).toBe(true);
    expect(await holds('spamtest :percent :is "0"', { require: req })).toBe(true);
  });
  test("environment items, with Pillarbox's own", async () => {
    const req = ["environment"];
    expect(await holds('environment :is "name" "Pillarbox"', { require: req })).toBe(true);
    expect(await holds('environment :is "location" "MDA"', { require: req })).toBe(true);
    expect(await holds('environment :is "phase" "during"', { require: req })).toBe(true);
    expect(await holds('environment :is "domain" "example.com"', { require: req })).toBe(true);
    expect(await holds('environment :matches "vnd.unknown" "*"', { require: req })).toBe(false);
  });
  test("mailboxexists, metadata, servermetadata", async () => {
    expect(await holds('mailboxexists ["INBOX","Lists"]', { require: ["mailbox"] })).toBe(true);
    expect(await holds('mailboxexists ["INBOX","Gone"]', { require: ["mailbox"] })).toBe(false);
    const metadata = { "INBOX|/private/comment": "hello" };
    expect(await holds('metadata :is "INBOX" "/private/comment" "hello"', { require: ["mboxmetadata"], metadata })).toBe(true);
    expect(await holds('metadataexists "INBOX" ["/private/comment", "/private/x"]', { require: ["mboxmetadata"], metadata })).toBe(false);
    expect(await holds('servermetadata :contains "/shared/admin" "admin"', { require: ["servermetadata"], server: { "/shared/admin": "mailto:admin@x" } })).toBe(true);
    expect(await holds('servermetadataexists "/shared/admin"', { require: ["servermetadata"] })).toBe(false);
  });
});
