/**
 * Interpreter, RFC 5228 core: control, keep/fileinto/redirect/discard and
 * how they combine (§2.10), header/address/envelope/exists/size tests.
 */
import { describe, expect, test } from "bun:test";
import { BASIC, holds, msg, run, summary } from "./interpret-helpers.ts";

describe("actions and the implicit keep (RFC 5228 §2.10)", () => {
  test("an empty script keeps the message", async () => {
    const out = await run("");
    expect(summary(out)).toEqual({ actions: [], keep: true, flags: [] });
  });

  test("fileinto cancels the implicit keep; keep stores in INBOX", async () => {
    expect(summary(await run('require "fileinto"; fileinto "Accounts";'))).toEqual({
      actions: [{ type: "fileinto", mailbox: "Accounts", create: false, copy: false, flags: [] }],
      keep: false,
      flags: [],
    });
    expect(summary(await run("keep;"))).toEqual({ actions: [{ type: "keep", flags: [] }], keep: false, flags: [] });
  });

  test("fileinto :copy and redirect :copy leave the implicit keep (RFC 3894)", async () => {
    const out = await run('require ["fileinto","copy"]; fileinto :copy "Accounts"; redirect :copy "x@example.net";');
    expect(out.implicitKeep).toBe(true);
    expect(out.actions.map((a) => a.type)).toEqual(["fileinto", "redirect"]);
  });

  test("duplicates are done once: the same mailbox, keep + fileinto INBOX, the same redirect (§2.10.3)", async () => {
    const out = await run('require "fileinto"; fileinto "Accounts"; fileinto "Accounts"; keep; fileinto "inbox"; redirect "a@x.org"; redirect "a@X.ORG"; redirect "A@x.org";');
    // the local part is case-sensitive (RFC 5321 §2.4), the domain is not
    expect(summary(out).actions).toEqual([
      { type: "fileinto", mailbox: "Accounts", create: false, copy: false, flags: [] },
      { type: "keep", flags: [] },
      { type: "redirect", address: "a@x.org", copy: false },
      { type: "redirect", address: "A@x.org", copy: false },
    ]);
    expect(out.implicitKeep).toBe(false);
  });

  test("a dropped duplicate does not cancel the implicit keep; a kept copy in INBOX is the implicit keep", async () => {
    const a = await run('require ["fileinto","copy"]; fileinto :copy "Lists"; fileinto "Lists";');
    expect(a.implicitKeep).toBe(true);
    expect(a.actions).toHaveLength(1);
    const b = await run('require ["fileinto","copy"]; fileinto "Lists"; fileinto :copy "Lists";');
    expect(b.implicitKeep).toBe(false);
    const c = await run('require ["fileinto","copy"]; redirect :copy "a@b.org"; redirect "a@b.org";');
    expect(c.implicitKeep).toBe(true);
    const d = await run('require ["fileinto","copy"]; fileinto :copy "INBOX"; keep;');
    expect(summary(d)).toEqual({ actions: [{ type: "fileinto", mailbox: "INBOX", create: false, copy: true, flags: [] }], keep: false, flags: [] });
  });

  test("discard cancels the implicit keep, an explicit keep still stores", async () => {
    expect(summary(await run("discard;"))).toEqual({ actions: [{ type: "discard" }], keep: false, flags: [] });
    const out = await run("discard; keep;");
    expect(out.actions.map((a) => a.type)).toEqual(["discard", "keep"]);
  });

  test("stop ends the script and keeps what ran", async () => {
    const out = await run('require "fileinto"; fileinto "Lists"; stop; fileinto "Accounts";');
    expect(out.actions).toHaveLength(1);
    expect(out.implicitKeep).toBe(false);
    expect((await run("stop; discard;")).implicitKeep).toBe(true);
  });

  test("if / elsif / else take exactly one branch", async () => {
    const script = (h: string) => `require "fileinto";
      if header :is "x-k" "a" { fileinto "Accounts"; }
      elsif header :is "x-k" "b" { fileinto "Lists"; }
      else { fileinto "Junk"; }`.replace(/x-k/g, h);
    const where = async (v: string) => {
      const out = await run(script("x-k"), { message: msg(`X-K: ${v}\n\nbody\n`) });
      return out.actions.map((a) => (a.type === "fileinto" ? a.mailbox : a.type));
    };
    expect(await where("a")).toEqual(["Accounts"]);
    expect(await where("b")).toEqual(["Lists"]);
    expect(await where("c")).toEqual(["Junk"]);
  });

  test("fileinto a mailbox that does not exist is a runtime error; :create is not (RFC 5490 §3.2)", async () => {
    const out = await run('require "fileinto"; redirect "x@y.org"; fileinto "Nope";');
    expect(out.error?.message).toContain("does not exist");
    expect(out.error?.line).toBe(1);
    expect(out.implicitKeep).toBe(true);
    expect(out.actions.map((a) => a.type)).toEqual(["redirect"]);
    const ok = await run('require ["fileinto","mailbox"]; fileinto :create "Nope";');
    expect(ok.error).toBeUndefined();
    expect(summary(ok).actions).toEqual([{ type: "fileinto", mailbox: "Nope", create: true, copy: false, flags: [] }]);
  });

  test("an invalid redirect address made by variables is a runtime error", async () => {
    const out = await run('require "variables"; set "a" "not an address"; redirect "${a}";');
    expect(out.error?.message).toContain("not a valid address");
    expect(out.implicitKeep).toBe(true);
    const named = await run('require "variables"; set "a" "Some One <one@example.net>"; redirect "${a}";');
    expect(named.error?.message).toContain("not a valid address");
    const made = await run('require "variables"; set "d" "example.net"; redirect "one@${d}";');
    expect(summary(made).actions).toEqual([{ type: "redirect", address: "one@example.net", copy: false }]);
  });
});

describe("header, address, envelope, exists, size (RFC 5228 §5)", () => {
  test("header values are unfolded and RFC 2047-decoded", async () => {
    expect(await holds('header :is "subject" "Hello Wörld report"')).toBe(true);
    expect(await holds('header :contains "Subject" "WÖRLD"')).toBe(false); // i;ascii-casemap folds ASCII only
    expect(await holds('header :contains "Subject" "wörld"')).toBe(true);
    expect(await holds('header :is "x-tag" "two"')).toBe(true);
    expect(await holds('header :contains ["x-missing","subject"] "report"')).toBe(true);
    const folded = msg("Subject: a long\n  folded value\n\nb\n");
    expect(await holds('header :is "subject" "a long  folded value"', { message: folded })).toBe(true);
  });

  test("header on a missing field is false, except :count eq 0", async () => {
    expect(await holds('header :contains "x-none" ""')).toBe(false);
    expect(await holds('header :count "eq" :comparator "i;ascii-numeric" "x-none" "0"', { require: ["relational", "comparator-i;ascii-numeric"] })).toBe(true);
    expect(await holds('header :count "eq" :comparator "i;ascii-numeric" "x-tag" "2"', { require: ["relational", "comparator-i;ascii-numeric"] })).toBe(true);
  });

  test("address parts: all, localpart, domain, user, detail", async () => {
    expect(await holds('address :is "from" "alice@example.org"')).toBe(true);
    expect(await holds('address :is :localpart "from" "alice"')).toBe(true);
    expect(await holds('address :is :domain "from" "EXAMPLE.org"')).toBe(true);
    expect(await holds('address :is :all "to" "carol+lists@example.net"')).toBe(true);
    expect(await holds('address :is :user "to" "carol"', { require: ["subaddress"] })).toBe(true);
    expect(await holds('address :is :detail "to" "lists"', { require: ["subaddress"] })).toBe(true);
    // bob@ has no "+": :detail matches nothing, not even "" or "*" (RFC 5233 §4)
    expect(await holds('address :matches :detail "to" "*"', { require: ["subaddress"], message: msg("To: bob@example.com\n\nb\n") })).toBe(false);
    expect(await holds('address :is :detail "to" ""', { require: ["subaddress"], message: msg("To: bob+@example.com\n\nb\n") })).toBe(true);
  });

  test("a field with no valid address is compared as it is for :all only; invalid entries are skipped", async () => {
    const m = msg("To: undisclosed-recipients:;\nCc: justlocal\nBcc: a@x.org, justlocal, b@y.org\n\nb\n");
    expect(await holds('address :is "to" "undisclosed-recipients:;"', { message: m })).toBe(true);
    expect(await holds('address :is "cc" "justlocal"', { message: m })).toBe(true);
    expect(await holds('address :is :localpart "cc" "justlocal"', { message: m })).toBe(false);
    expect(await holds('address :count "eq" :comparator "i;ascii-numeric" "bcc" "2"', { require: ["relational", "comparator-i;ascii-numeric"], message: m })).toBe(true);
  });

  test(":all writes a local part that is no dot-atom as a quoted string (as Pigeonhole)", async () => {
    const m = msg('From: "Q" <"a@b"@c.org>\nTo: u@[1.2.3.4]\n\nb\n');
    expect(await holds('address :is :all "from" "\\"a@b\\"@c.org"', { message: m })).toBe(true);
    expect(await holds('address :is :localpart "from" "a@b"', { message: m })).toBe(true);
    expect(await holds('address :is :domain "to" "[1.2.3.4]"', { message: m })).toBe(true);
  });

  test("address skips group syntax and reads display names out", async () => {
    expect(await holds('address :contains "cc" "undisclosed"')).toBe(true); // no address in it: the raw value, as Pigeonhole
    expect(await holds('address :is "to" "Carol C"')).toBe(false);
    const groups = msg("To: team: a@x.org, b@y.org;, c@z.org\n\nb\n");
    expect(await holds('address :count "eq" :comparator "i;ascii-numeric" "to" "3"', { require: ["relational", "comparator-i;ascii-numeric"], message: groups })).toBe(true);
  });

  test("envelope from/to and the null sender", async () => {
    expect(await holds('envelope :is "from" "bounce+x@lists.example.org"', { require: ["envelope"] })).toBe(true);
    expect(await holds('envelope :is :domain "to" "example.com"', { require: ["envelope"] })).toBe(true);
    expect(await holds('envelope :is :detail "to" "sieve"', { require: ["envelope", "subaddress"] })).toBe(true);
    const nul = { from: "", to: "bob@example.com" };
    expect(await holds('envelope :is "from" ""', { require: ["envelope"], envelope: nul })).toBe(true);
    // every part of the null sender is "" (checked with Pigeonhole over LMTP)
    expect(await holds('envelope :is :localpart "from" ""', { require: ["envelope"], envelope: nul })).toBe(true);
    expect(await holds('envelope :is :domain "from" ""', { require: ["envelope"], envelope: nul })).toBe(true);
    expect(await holds('envelope :is :detail "from" ""', { require: ["envelope", "subaddress"], envelope: nul })).toBe(true);
    expect(await holds('envelope :contains :domain "from" "x"', { require: ["envelope"], envelope: nul })).toBe(false);
  });

  test("exists needs every field; size is strict", async () => {
    expect(await holds('exists ["from","x-tag"]')).toBe(true);
    expect(await holds('exists ["from","x-nope"]')).toBe(false);
    expect(await holds(`size :over ${BASIC.length - 1}`)).toBe(true);
    expect(await holds(`size :over ${BASIC.length}`)).toBe(false);
    expect(await holds(`size :under ${BASIC.length}`)).toBe(false);
    expect(await holds("size :under 1M")).toBe(true);
  });

  test("allof / anyof / not", async () => {
    expect(await holds('allof (true, header :is "x-tag" "one")')).toBe(true);
    expect(await holds("allof (true, false)")).toBe(false);
    expect(await holds("anyof (false, true)")).toBe(true);
    expect(await holds("not anyof (false, false)")).toBe(true);
  });
});

describe("a whole script, as a person would write one", () => {
  // In the spirit of RFC 5228 §9: mailing lists to their folder, a boss's mail flagged,
  // spam-looking subjects discarded, everything else kept, with an out-of-office reply.
  const script = `require ["fileinto", "imap4flags", "vacation", "variables", "mailbox", "envelope"];
    if header :contains "list-id" "<dev.lists.example.org>" {
      fileinto :create "Lists/dev";
      stop;
    }
    if address :is "from" "boss@example.org" {
      addflag "\\\\Flagged";
    }
    if header :matches "subject" ["*MAKE MONEY*", "*FREE!!*"] {
      discard;
      stop;
    }
    if envelope :matches :domain "from" "*" { set "dom" "\${1}"; }
    vacation :days 5 :subject "Away until Monday" "Mail from \${dom} will be read on Monday.";`;

  test("a list message goes to its folder and nothing else happens", async () => {
    const out = await run(script, { message: msg("List-Id: Dev <dev.lists.example.org>\nFrom: x@lists.example.org\nSubject: build\n\nb\n") });
    expect(summary(out)).toEqual({ actions: [{ type: "fileinto", mailbox: "Lists/dev", create: true, copy: false, flags: [] }], keep: false, flags: [] });
  });

  test("the boss is flagged and answered, and the message kept", async () => {
    const out = await run(script, { message: msg("From: Boss <boss@example.org>\nSubject: budget\n\nb\n"), envelope: { from: "boss@example.org", to: "bob@example.com" } });
    expect(out.implicitKeep).toBe(true);
    expect(out.implicitKeepFlags).toEqual(["\\Flagged"]);
    expect(out.actions).toHaveLength(1);
    expect(out.actions[0]).toMatchObject({ type: "vacation", periodSeconds: 5 * 86400, subject: "Away until Monday", reason: "Mail from example.org will be read on Monday." });
  });

  test("spam-looking subjects are discarded without a reply", async () => {
    const out = await run(script, { message: msg("From: a@spam.test\nSubject: FREE!! offer\n\nb\n") });
    expect(summary(out)).toEqual({ actions: [{ type: "discard" }], keep: false, flags: [] });
  });
});
