/**
 * src/spam/bayes*.ts: the tokenizer (header tokens by field, decoded body
 * words, URL hosts and registrable domains, bounds on hostile input), the
 * chi-square arithmetic, and the classifier over a real SQLite BayesStore:
 * it learns, forgets on untrain, is idempotent per message, falls back from
 * the account's model to the domain's, and has no opinion before both classes
 * were learned enough.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bayes, bayesKey, BAYES_BANDS } from "../../src/spam/bayes.ts";
import { tokenizeMessage, registrableDomain, MAX_TOKENS } from "../../src/spam/bayes-tokenize.ts";
import { chi2Q, combine, tokenProbability } from "../../src/spam/bayes-score.ts";
import { SqlBayesStore } from "../../storage/bayes-store.ts";
import { setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";

const enc = new TextEncoder();
const msg = (headers: string, body: string) => enc.encode(`${headers.replace(/\n/g, "\r\n")}\r\n\r\n${body.replace(/\n/g, "\r\n")}`);

function spamMessage(i: number): Uint8Array {
  return msg(
    `From: "Pharmacy Deals" <deals${i}@cheap-meds${i % 3}.example>\nTo: victim@example.com\nSubject: Cheap viagra and cialis, order now ${i}\nContent-Type: text/html; charset=iso-8859-1`,
    `<p>Buy <b>cheap</b> viagra cialis pills online! Lowest prices guaranteed, no prescription.</p><a href="http://pills${i}.rx-store.example/buy">Order now</a> unsubscribe ${i}`,
  );
}

function hamMessage(i: number): Uint8Array {
  return msg(
    `From: Alice Colleague <alice@partner.example>\nTo: bob@example.com\nSubject: Minutes of the project meeting ${i}\nContent-Type: text/plain; charset=utf-8`,
    `Hi Bob,\n\nattached are the minutes of Tuesday's project meeting. The release schedule moves to next week; please review the budget spreadsheet ${i}.\n\nThanks, Alice\nhttps://wiki.partner.example/projects/${i}`,
  );
}

describe("tokenizer", () => {
  test("header tokens carry their field; body words are decoded and lower-cased; URL hosts and registrable domains", () => {
    const raw = msg(
      `Received: from mail.sender.example (mail.sender.example [203.0.113.7]) by mx.example.com\nFrom: =?utf-8?q?J=C3=BCrgen?= <jurgen@news.sender.example>\nTo: a@example.com, b@example.com\nSubject: =?utf-8?b?R3LDvMOfZQ==?= Angebot\nX-Mailer: FooMailer 2.1\nMessage-ID: <abc@sender.example>\nX-Spam-Status: No, score=-5\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable`,
      `Sch=C3=B6ne Gr=C3=BC=C3=9Fe. Visit https://shop.example.co.uk/x and www.other.example today.`,
    );
    const t = new Set(tokenizeMessage(raw, { maxScanBytes: 1 << 20 }));
    for (const x of ["subject:grüße", "subject:angebot", "from:addr:jurgen@news.sender.example", "from:dom:news.sender.example", "from:dom:dom:sender.example", "from:name:jürgen", "to:n:2-3", "xm:foomailer", "mid:sender.example", "rcvd:ip:203.0.113.7", "rcvd:net:203.0.113", "rcvd:mail.sender.example", "ct:text/plain", "cs:utf-8", "cte:quoted-printable", "schöne", "grüße", "visit", "today", "url:shop.example.co.uk", "url:dom:example.co.uk", "url:www.other.example", "url:dom:other.example", "hdr:x-mailer"]) {
      expect(t.has(x)).toBe(true);
    }
    // our own X-Spam fields are never tokens (a delivered copy carries them)
    expect([...t].some((x) => x.includes("x-spam"))).toBe(false);
  });

  test("registrable domains", () => {
    expect(registrableDomain("a.b.example.com")).toBe("example.com");
    expect(registrableDomain("shop.example.co.uk")).toBe("example.co.uk");
    expect(registrableDomain("example.com")).toBe("example.com");
    expect(registrableDomain("localhost")).toBe("localhost");
  });

  test("HTML parts give their text and their links; bare-IP links are one token", () => {
    const t = tokenizeMessage(msg("Subject: x\nContent-Type: text/html", `<a href="http://192.0.2.1/login">Click <i>here</i></a> <script>nothing</script>`), { maxScanBytes: 10_000 });
    expect(t).toContain("url:ip");
    expect(t).toContain("click");
    expect(t).toContain("body:html");
  });

  test("hostile input is bounded: a huge body, endless words, long tokens, deep MIME", () => {
    const words = Array.from({ length: 200_000 }, (_, i) => `w${i}x`).join(" ");
    const t = tokenizeMessage(msg("Subject: flood", words), { maxScanBytes: 10 << 20 });
    expect(t.length).toBeLessThanOrEqual(MAX_TOKENS);
    const long = tokenizeMessage(msg("Subject: s", "a".repeat(100_000) + " " + "b".repeat(30)), { maxScanBytes: 1 << 20 });
    expect(long).toContain("skip:a100000");
    expect(long).toContain("skip:b30");
    expect(long.every((x) => x.length <= 64)).toBe(true);
    // only maxScanBytes of the body are read
    const cut = tokenizeMessage(msg("Subject: s", "early words " + "x ".repeat(5000) + " lateword"), { maxScanBytes: 100 });
    expect(cut).toContain("early");
    expect(cut).not.toContain("lateword");
    let nested = "Content-Type: text/plain\r\n\r\ndeep";
    for (let i = 0; i < 200; i++) nested = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${nested}\r\n--b${i}--`;
    expect(Array.isArray(tokenizeMessage(enc.encode(`Subject: nest\r\n${nested}`), { maxScanBytes: 1 << 20 }))).toBe(true);
    for (const junk of [new Uint8Array(0), enc.encode("\r\n\r\n"), enc.encode("no header at all"), new Uint8Array(5000).fill(0xff)]) {
      expect(Array.isArray(tokenizeMessage(junk, { maxScanBytes: 1000 }))).toBe(true);
    }
    const many = "To: " + Array.from({ length: 3000 }, (_, i) => `u${i}@example.com`).join(", ");
    expect(tokenizeMessage(msg(`${many}\nSubject: s`, "x"), { maxScanBytes: 1000 })).toContain("to:n:many");
  });
});

describe("arithmetic", () => {
  test("chi2Q: known values and bounds", () => {
    expect(chi2Q(0, 2)).toBeCloseTo(1, 10);
    expect(chi2Q(2, 2)).toBeCloseTo(Math.exp(-1), 10);
    expect(chi2Q(1e6, 300)).toBe(0);
  });

  test("token probability: Robinson's prior pulls rare tokens to 0.5", () => {
    const totals = { spam: 100, ham: 100 };
    expect(tokenProbability({ spam: 1, ham: 0 }, totals)).toBeLessThan(tokenProbability({ spam: 50, ham: 0 }, totals));
    expect(tokenProbability({ spam: 50, ham: 0 }, totals)).toBeGreaterThan(0.98);
    expect(tokenProbability({ spam: 0, ham: 50 }, totals)).toBeLessThan(0.02);
    expect(tokenProbability({ spam: 10, ham: 10 }, totals)).toBeCloseTo(0.5, 5);
  });

  test("combining: spammy clues near 1, hammy near 0, none or mixed 0.5", () => {
    expect(combine(Array(20).fill(0.99)).probability).toBeGreaterThan(0.99);
    expect(combine(Array(20).fill(0.01)).probability).toBeLessThan(0.01);
    expect(combine([]).probability).toBe(0.5);
    expect(combine([0.5, 0.45, 0.55]).used).toBe(0);
    expect(combine([...Array(20).fill(0.99), ...Array(20).fill(0.01)]).probability).toBeCloseTo(0.5, 1);
    expect(combine(Array(1000).fill(0.99)).used).toBe(150);
  });
});

describe("classifier", () => {
  let t: TempStore;
  let bayes: Bayes;
  let alice: number;
  let carol: number;
  beforeAll(async () => {
    t = await tempStore();
    bayes = new Bayes(new SqlBayesStore(t.store.db), { minSpam: 5, minHam: 5 });
    alice = (await setupAccount(t.store, "alice@example.com")).account.id;
    carol = (await setupAccount(t.store, "carol@example.com")).account.id;
  });
  afterAll(async () => t.cleanup());

  const train = (id: number, raw: Uint8Array, as: "spam" | "ham" | null) => bayes.train(id, "example.com", bayesKey(raw), bayes.tokenize(raw, 1 << 20), as);
  const classify = (id: number, raw: Uint8Array, domain = "example.com") => bayes.classify(id, domain, bayes.tokenize(raw, 1 << 20));

  test("no opinion before both classes are learned enough", async () => {
    expect(await classify(alice, spamMessage(100))).toBeNull();
    for (let i = 0; i < 5; i++) await train(alice, spamMessage(i), "spam");
    expect(await classify(alice, spamMessage(100))).toBeNull();
  });

  test("learns: new spam scores high, new ham low, from the account's model", async () => {
    for (let i = 0; i < 5; i++) await train(alice, hamMessage(i), "ham");
    const s = (await classify(alice, spamMessage(101)))!;
    const h = (await classify(alice, hamMessage(101)))!;
    expect(s.model).toBe("account");
    expect(s.probability).toBeGreaterThan(0.9);
    expect(h.probability).toBeLessThan(0.1);
    expect(s.tokensUsed).toBeGreaterThan(5);
  });

  test("no opinion when none of the message's tokens is known: no symbol, not a 0.5 in a scored band", async () => {
    expect(await bayes.classify(alice, "example.com", ["never-seen-1", "never-seen-2"])).toBeNull();
  });

  test("idempotent: training the same message again changes nothing", async () => {
    const store = bayes.store;
    const before = await store.totals({ accountId: alice });
    await train(alice, spamMessage(0), "spam");
    expect(await store.totals({ accountId: alice })).toEqual(before);
  });

  test("forgets on untrain, and a moved-back message is counted as the other class", async () => {
    const store = bayes.store;
    const raw = spamMessage(3);
    await train(alice, raw, null);
    expect(await store.totals({ accountId: alice })).toEqual({ spam: 4, ham: 5 });
    expect(await store.trainedAs({ accountId: alice }, bayesKey(raw))).toBeNull();
    await train(alice, raw, "ham");
    expect(await store.totals({ accountId: alice })).toEqual({ spam: 4, ham: 6 });
    await train(alice, raw, "spam");
    expect(await store.totals({ accountId: alice })).toEqual({ spam: 5, ham: 5 });
  });

  test("domain fallback: an account with too little of its own uses the shared model", async () => {
    const c = (await classify(carol, spamMessage(102)))!;
    expect(c.model).toBe("domain");
    expect(c.probability).toBeGreaterThan(0.9);
    expect(await classify(carol, spamMessage(102), "other.example")).toBeNull();
  });

  test("models stay bounded: every pruneEvery trainings the trained models are pruned to their size", async () => {
    const small = new Bayes(bayes.store, { minSpam: 1, minHam: 1, pruneEvery: 4, maxAccountTokens: 30, maxDomainTokens: 40 });
    for (let i = 0; i < 4; i++) await small.train(carol, "prune.example", `k${i}`, Array.from({ length: 20 }, (_, j) => `p${i}-${j}`), i % 2 ? "ham" : "spam");
    const n = async (scope: string) => Number((await t.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM bayes_tokens WHERE model_id = (SELECT id FROM bayes_models WHERE scope = ?)", [scope]))?.n);
    expect(await n(`a:${carol}`)).toBe(30);
    expect(await n("d:prune.example")).toBe(40);
  });

  test("symbols: bands in order, neutral band gives none", () => {
    expect(bayes.symbol(0.999)!.name).toBe("BAYES_99");
    expect(bayes.symbol(0.96)!.name).toBe("BAYES_95");
    expect(bayes.symbol(0.3)).toBeNull();
    expect(bayes.symbol(0.001)!.name).toBe("BAYES_00");
    expect(bayes.symbol(0.001)!.score).toBeLessThan(0);
    expect(bayes.symbol(Number.NaN)).toBeNull();
    const scores = BAYES_BANDS.map((b) => b.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });
});
