/**
 * Interpreter limits: hostile messages (huge MIME trees, encoded-word
 * floods, a 20 MB body) and runaway scripts (steps, actions, redirects, the
 * clock) end in a bounded outcome: a runtime `error` with the implicit keep,
 * never a throw.
 */
import { describe, expect, test } from "bun:test";
import { enc, holds, msg, run } from "./interpret-helpers.ts";

describe("hostile messages", () => {
  test("a 2,000-part MIME tree: the body test reads the first 1,000 parts only", async () => {
    let m = "Subject: parts\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n";
    for (let i = 0; i < 2000; i++) m += `--zz\r\nContent-Type: text/plain\r\n\r\npart-${i}-marker\r\n`;
    m += "--zz--\r\n";
    const message = enc.encode(m);
    expect(await holds('body :contains "part-10-marker"', { require: ["body"], message })).toBe(true);
    expect(await holds('body :contains "part-1990-marker"', { require: ["body"], message })).toBe(false);
    expect(await holds('body :content "text/plain" :contains "part-500-marker"', { require: ["body"], message })).toBe(true);
  });

  test("50,000 encoded words in Subject decode and compare", async () => {
    const words = Array.from({ length: 50_000 }, () => "=?UTF-8?B?w6k=?=").join(" ");
    const message = enc.encode(`Subject: ${words}\r\nFrom: a@x.org\r\n\r\nb\r\n`);
    expect(await holds('header :matches "subject" "éééé*"', { message })).toBe(true); // cut at the header parser's 256 KB
    expect(await holds('header :contains "subject" "x"', { message })).toBe(false);
    const out = await run('require "editheader"; addheader "X-A" "b"; if header :contains "subject" "é" { discard; }', { message });
    expect(out.error).toBeUndefined();
    expect(out.message!.length).toBeGreaterThan(message.length);
  });

  test("a 20 MB body: the body test reads at most maxBodyBytes of text", async () => {
    const head = "Subject: big\r\nContent-Type: text/plain\r\n\r\nearly-marker\r\n";
    const filler = "x".repeat(76) + "\r\n";
    const lines = Math.ceil((20 * 1024 * 1024) / filler.length);
    const message = enc.encode(head + filler.repeat(lines) + "late-marker\r\n");
    const r = { require: ["body"], message, limits: { maxBodyBytes: 64 * 1024 } };
    expect(await holds('body :contains "early-marker"', r)).toBe(true);
    expect(await holds('body :contains "late-marker"', r)).toBe(false);
    expect(await holds('body :raw :contains "late-marker"', r)).toBe(false);
    expect(await holds("size :over 20M", r)).toBe(true);
  });

  test("5,000 header fields read by 2,000 tests: no step limit, no clock limit reached", async () => {
    let head = "";
    for (let i = 0; i < 5000; i++) head += `X-Junk-${i % 50}: value ${i}\r\n`;
    const message = enc.encode(`${head}Subject: last\r\n\r\nb\r\n`);
    const body = Array.from({ length: 2000 }, (_, i) => `if header :is "x-junk-${i % 60}" "nope" { discard; }`).join("\n");
    const out = await run(`${body}\nif header :is "subject" "last" { discard; }`, { message, limits: { maxScriptBytes: 1 << 20 } });
    expect(out.error).toBeUndefined();
    expect(out.actions).toEqual([{ type: "discard" }]);
  });

  test("broken bytes never make the run throw", async () => {
    const samples = [
      new Uint8Array([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
      enc.encode("Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n"),
      enc.encode("From: <<<@@@>>>\r\nTo: ,,,;;;:::\r\nDate: 99 Foo 99999 99:99\r\n\r\n"),
      new Uint8Array(0),
    ];
    const script = `require ["body","date","envelope","subaddress","editheader","variables"];
      if address :detail :matches "to" "*" { set "a" "\${1}"; }
      if date :matches "date" "iso8601" "*" { addheader "X-D" "\${1}"; }
      if body :content "" :contains "x" { discard; }
      deleteheader "to";`;
    for (const message of samples) {
      const out = await run(script, { message });
      expect(out.error).toBeUndefined();
      expect(out.implicitKeep).toBe(true);
    }
  });
});

describe("runaway scripts", () => {
  test("10,000 if blocks over big lists stop at maxSteps with the implicit keep", async () => {
    const keys = JSON.stringify(Array.from({ length: 20 }, (_, i) => `k${i}`));
    const body = Array.from({ length: 10_000 }, () => `if header :contains ["subject","from","to"] ${keys} { discard; }`).join("\n");
    const out = await run(body, { limits: { maxScriptBytes: 4 * 1024 * 1024, maxSteps: 20_000, maxRunMs: 60_000 } });
    expect(out.error?.message).toContain("more than 20000 steps");
    expect(out.error!.line).toBeLessThan(10_000);
    expect(out.implicitKeep).toBe(true);
    expect(out.actions).toEqual([]);
  });

  test("1,000 redirects: the fifth is an error (maxRedirects 4)", async () => {
    const body = Array.from({ length: 1000 }, (_, i) => `redirect "r${i}@example.net";`).join("\n");
    const out = await run(body, { limits: { maxScriptBytes: 1 << 20 } });
    expect(out.error?.message).toContain("more than 4 redirects");
    expect(out.error?.line).toBe(5);
    expect(out.actions).toHaveLength(4);
    expect(out.implicitKeep).toBe(true);
  });

  test("a 1 MB body against 3,000 keys stops at the clock inside the one test", async () => {
    const message = enc.encode("Subject: big\r\n\r\n" + "abcdefghij".repeat(100_000) + "\r\n");
    const keys = JSON.stringify(Array.from({ length: 3000 }, (_, i) => `zz${i}`));
    const out = await run(`require "body"; if body :raw :contains ${keys} { discard; }`, { message, limits: { maxRunMs: 0 } });
    expect(out.error?.message).toContain("ran longer than 0 ms");
    expect(out.implicitKeep).toBe(true);
    // the same with a budget: every key is compared, none matches, no error
    const few = JSON.stringify([...Array.from({ length: 40 }, (_, i) => `zz${i}`), "jabcd"]);
    const ok = await run(`require "body"; if body :raw :contains ${few} { discard; }`, { message, limits: { maxRunMs: 60_000 } });
    expect(ok.error).toBeUndefined();
    expect(ok.actions).toEqual([{ type: "discard" }]);
  });

  test("more than maxActions actions is an error", async () => {
    const body = Array.from({ length: 40 }, (_, i) => `fileinto :create "f${i}";`).join("\n");
    const out = await run(`require ["fileinto","mailbox"];\n${body}`);
    expect(out.error?.message).toContain("more than 32 actions");
    expect(out.actions).toHaveLength(32);
  });

  test("the wall clock stops a run that outlives maxRunMs", async () => {
    const body = Array.from({ length: 5000 }, () => 'if header :contains "subject" "nothing" { discard; }').join("\n");
    const out = await run(body, { limits: { maxRunMs: 0, maxScriptBytes: 1 << 20 } });
    expect(out.error?.message).toContain("ran longer than 0 ms");
    expect(out.implicitKeep).toBe(true);
  });

  test("after an error the implicit keep carries no flags (Pigeonhole's failure keep)", async () => {
    const out = await run('require ["imap4flags","fileinto"];\naddflag "\\\\Seen";\nfileinto "Missing";');
    expect(out.error?.line).toBe(3);
    expect(out.implicitKeep).toBe(true);
    expect(out.implicitKeepFlags).toEqual([]);
  });

  test("a failing script keeps earlier actions and reports the line", async () => {
    const out = await run('require "fileinto";\nfileinto "Lists";\nfileinto "Missing";\nfileinto "Junk";', { message: msg("Subject: x\n\nb\n") });
    expect(out.error).toEqual({ line: 3, message: 'fileinto: mailbox "Missing" does not exist' });
    expect(out.actions.map((a) => a.type)).toEqual(["fileinto"]);
    expect(out.implicitKeep).toBe(true);
  });
});
