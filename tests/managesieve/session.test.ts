/**
 * The sans-IO ManageSieve parser (RFC 5804 §4) and session (§2) without
 * sockets: tokens, literals split across chunks, the literal bounds, output
 * back-pressure, timeouts, a busy store (TRYLATER), and the response forms.
 */
import { describe, expect, test } from "bun:test";
import { CommandReader, MAX_SEGMENT, lexSegment, type ReaderEvent } from "../../protocols/managesieve/parser.ts";
import { response, str } from "../../protocols/managesieve/response.ts";
import { literalHardCap } from "../../protocols/managesieve/session.ts";
import { describe as describeErrors } from "../../protocols/managesieve/scripts.ts";
import { unitSession } from "./memory.ts";

const b = (s: string) => new TextEncoder().encode(s);
const text = (ev: ReaderEvent) =>
  ev.type === "line" ? ev.tokens.map((t) => (t.kind === "atom" ? `atom:${t.value}` : `${t.literal ? "lit" : "str"}:${new TextDecoder().decode(t.bytes)}`)) : [`${ev.type}:${ev.message}`];

function feedAll(r: CommandReader, input: string | Uint8Array, step = 0): ReaderEvent[] {
  const bytes = typeof input === "string" ? b(input) : input;
  if (!step) return r.feed(bytes);
  const out: ReaderEvent[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(...r.feed(bytes.subarray(i, i + step)));
  return out;
}

describe("parser", () => {
  test("atoms, quoted strings with escapes, literals {n+} and {n}, byte by byte as well as whole", () => {
    const input = 'PUTSCRIPT "a \\"b\\" \\\\c" {5+}\r\nkeep;\r\nHAVESPACE "x" 100\r\nCHECKSCRIPT {3}\r\nabc\r\n';
    for (const step of [0, 1, 2, 7]) {
      const evs = feedAll(new CommandReader({ maxLiteral: 100, hardCap: 1000 }), input, step);
      expect(evs.map(text)).toEqual([
        ["atom:PUTSCRIPT", 'str:a "b" \\c', "lit:keep;"],
        ["atom:HAVESPACE", "str:x", "atom:100"],
        ["atom:CHECKSCRIPT", "lit:abc"],
      ]);
    }
  });

  test("a literal may hold CRLF and what looks like commands; bare LF ends a line too", () => {
    const lit = 'LOGOUT\r\n"x" {2+}\r\n';
    const evs = feedAll(new CommandReader({ maxLiteral: 100, hardCap: 1000 }), `PUTSCRIPT "s" {${lit.length}+}\r\n${lit}\nNOOP\n`);
    expect(evs.map(text)).toEqual([["atom:PUTSCRIPT", "str:s", `lit:${lit}`], ["atom:NOOP"]]);
  });

  test("errors: bad escape, unterminated string, NUL, marker not last, too many arguments", () => {
    expect(lexSegment(b('X "a\\b"'))).toEqual({ error: 'a backslash in a quoted string may only escape " or \\' });
    expect(lexSegment(b('X "abc'))).toEqual({ error: "unterminated quoted string" });
    expect(lexSegment(Uint8Array.from([0x58, 0x20, 0x22, 0, 0x22]))).toEqual({ error: "a NUL octet in a quoted string" });
    expect(lexSegment(b("X {3+} Y"))).toEqual({ error: "a literal length must end the line" });
    expect(lexSegment(b('X "a""b"'))).toEqual({ error: "arguments must be separated by spaces" });
    expect(lexSegment(b("X " + "a ".repeat(40)))).toEqual({ error: "too many arguments" });
    expect(lexSegment(b("X {99999999999}"))).toEqual({ error: "malformed literal length" });
  });

  test("a literal over maxLiteral is dropped as it arrives and the line reported oversize; over the hard cap it is fatal", () => {
    const r = new CommandReader({ maxLiteral: 10, hardCap: 100 });
    const evs = feedAll(r, `PUTSCRIPT "s" {50+}\r\n${"x".repeat(50)}\r\nNOOP\r\n`, 3);
    expect(evs.length).toBe(2);
    expect(evs[0]).toMatchObject({ type: "line", oversize: true });
    expect(r.pending).toBe(0);
    expect(evs.map(text)[1]).toEqual(["atom:NOOP"]);
    const r2 = new CommandReader({ maxLiteral: 10, hardCap: 100 });
    const f = feedAll(r2, 'PUTSCRIPT "s" {101+}\r\nxxxx');
    expect(f).toEqual([{ type: "fatal", message: "Literal of 101 octets refused: too large", literal: true }]);
    // Nothing more is parsed after a fatal event.
    expect(r2.feed(b("NOOP\r\n"))).toEqual([]);
    expect(literalHardCap(256 * 1024)).toBe(4 * 1024 * 1024);
  });

  test("an over-long line is fatal, never buffered past the limit", () => {
    const r = new CommandReader({ maxLiteral: 10, hardCap: 100 });
    const evs = feedAll(r, "NOOP " + "a".repeat(MAX_SEGMENT + 10), 1000);
    expect(evs).toEqual([{ type: "fatal", message: `Line longer than ${MAX_SEGMENT} octets`, literal: false }]);
    expect(r.pending).toBeLessThanOrEqual(MAX_SEGMENT);
  });

  test("response forms: quoted when possible, literal for line breaks; codes", () => {
    expect(str('a "q" \\')).toBe('"a \\"q\\" \\\\"');
    expect(str("two\r\nlines")).toBe("{10}\r\ntwo\r\nlines");
    expect(response("NO", "gone", "NONEXISTENT")).toBe('NO (NONEXISTENT) "gone"\r\n');
    expect(response("OK", "Done", { tag: "t1" })).toBe('OK (TAG "t1") "Done"\r\n');
    expect(response("OK", null, { sasl: "eA==" })).toBe('OK (SASL "eA==")\r\n');
    expect(response("NO", "line 1: a\r\nline 2: b")).toBe('NO {20}\r\nline 1: a\r\nline 2: b\r\n');
  });

  test("compile errors in a response are bounded: at most 20, each at most 512 characters, 4 KB in all", () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ line: i + 1, message: "x".repeat(1000) }));
    const t = describeErrors(many);
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(4096 + 3);
    expect(t.startsWith("line 1: xxx")).toBe(true);
    expect(describeErrors([{ line: 3, message: "unknown command" }, { line: 4, message: "line 4: already says it" }])).toBe("line 3: unknown command\r\nline 4: already says it");
    expect(describeErrors(Array.from({ length: 25 }, (_, i) => ({ line: i, message: "e" })))).toEndWith("(5 more)");
  });
});

describe("session", () => {
  const auth = `AUTHENTICATE "PLAIN" "${Buffer.from("\0erin@unit.test\0pw").toString("base64")}"\r\n`;

  test("login stops the login timer; UNAUTHENTICATE restarts it; the login timeout says BYE only before login", async () => {
    const { io, session } = unitSession();
    session.greet();
    io.take();
    session.receive(b(auth));
    await session.whenIdle();
    expect(io.take()).toBe('OK "Logged in"\r\n');
    expect(io.loginTimerOn).toBe(false);
    session.loginTimeout();
    expect(io.closed).toBe(false);
    session.receive(b("UNAUTHENTICATE\r\n"));
    await session.whenIdle();
    expect(io.loginTimerOn).toBe(true);
    session.loginTimeout();
    expect(io.take()).toBe('OK "Unauthenticated"\r\nBYE "No login in time"\r\n');
    expect(io.closed).toBe(true);
  });

  test("idle timeout and shutdown say BYE and close", () => {
    const a = unitSession();
    a.session.timeout();
    expect(a.io.take()).toBe('BYE "Disconnected for inactivity"\r\n');
    expect(a.io.closed).toBe(true);
    const c = unitSession();
    c.session.shutdown();
    expect(c.io.take()).toBe('BYE (TRYLATER) "Server shutting down"\r\n');
  });

  test("a throttled login answers NO (TRYLATER); a failed STARTTLS handshake closes", async () => {
    const { io, session } = unitSession();
    session.receive(b(`AUTHENTICATE "PLAIN" "${Buffer.from("\0throttled@unit.test\0pw").toString("base64")}"\r\n`));
    await session.whenIdle();
    expect(io.take()).toBe('NO (TRYLATER) "Too many failed logins; try again later"\r\n');
    const t = unitSession({ secure: false });
    t.io.tls = false;
    t.session.receive(b("STARTTLS\r\nNOOP\r\n"));
    await t.session.whenIdle();
    expect(t.io.take()).toBe('OK "Begin TLS negotiation now"\r\n');
    expect(t.io.closed).toBe(true);
  });

  test("a busy store answers NO (TRYLATER), nothing crashes, the session goes on", async () => {
    const errors: string[] = [];
    const { io, session, store } = unitSession({ errors });
    session.receive(b(auth));
    await session.whenIdle();
    io.take();
    store.busy = true;
    session.receive(b('LISTSCRIPTS\r\nPUTSCRIPT "a" {5+}\r\nkeep;\r\nGETSCRIPT "a"\r\n'));
    await session.whenIdle();
    expect(io.take()).toBe('NO (TRYLATER) "The script store is busy; try again later"\r\n'.repeat(3));
    store.busy = false;
    session.receive(b("NOOP\r\n"));
    await session.whenIdle();
    expect(io.take()).toBe('OK "Done"\r\n');
    expect(errors).toEqual([]);
  });

  test("output back-pressure: with the socket buffer full the next command waits for drain; input pauses under a backlog", async () => {
    const { io, session } = unitSession();
    session.receive(b(auth));
    await session.whenIdle();
    io.take();
    io.full = true;
    session.receive(b("NOOP\r\n".repeat(20)));
    expect(io.paused).toBe(true);
    await session.whenIdle();
    expect(io.drains).toBeGreaterThanOrEqual(19);
    expect(io.paused).toBe(false);
    expect(io.take()).toBe('OK "Done"\r\n'.repeat(20));
  });

  test("a pipelined burst of large uploads pauses reading until it is worked off", async () => {
    const { io, session } = unitSession({ maxScriptBytes: 512 * 1024, maxScripts: 10 });
    session.receive(b(auth));
    await session.whenIdle();
    io.take();
    const script = "# " + "y".repeat(300 * 1024) + "\r\nkeep;\r\n";
    let burst = "";
    for (let i = 0; i < 5; i++) burst += `PUTSCRIPT "s${i}" {${script.length}+}\r\n${script}\r\n`;
    session.receive(b(burst));
    expect(io.paused).toBe(true);
    await session.whenIdle();
    expect(io.paused).toBe(false);
    expect(io.take()).toBe('OK "Script stored"\r\n'.repeat(5));
  });

  test("compiler warnings come back as OK (WARNINGS) and the script is stored (RFC 5804 §2.6)", async () => {
    const { io, session, store } = unitSession();
    const real = session.deps.compile;
    session.deps.compile = (text) => {
      const r = real(text);
      return r.ok ? { ...r, warnings: [{ line: 2, message: "this test is always true" }] } : r;
    };
    session.receive(b(auth));
    await session.whenIdle();
    io.take();
    session.receive(b('PUTSCRIPT "w" {14+}\r\nif true {\r\n}\r\n\r\nCHECKSCRIPT "keep;"\r\n'));
    await session.whenIdle();
    expect(io.take()).toBe('OK (WARNINGS) "line 2: this test is always true"\r\n'.repeat(2));
    expect(await store.getScript(7, "w")).toBe("if true {\r\n}\r\n");
  });

  test("CHECKSCRIPT names the line of the error", async () => {
    const { io, session } = unitSession();
    session.receive(b(auth));
    await session.whenIdle();
    io.take();
    const script = 'require "fileinto";\r\nfileinto "a";\r\nhedaer;\r\n';
    session.receive(b(`CHECKSCRIPT {${script.length}+}\r\n${script}\r\n`));
    await session.whenIdle();
    const out = io.take();
    expect(out).toMatch(/^NO ("line 3: [^"]+"|\{\d+\}\r\nline 3: )/);
  });
});
