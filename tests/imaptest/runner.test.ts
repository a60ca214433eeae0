/**
 * The imaptest-format runner itself: the argument parser, the script parser,
 * imaptest's matching rules, and whole scripts against a small scripted fake
 * IMAP server (so a wrong reply is shown to be reported, and counted the way
 * imaptest counts it).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { argsToString, parseImapArgs, type ImapArg } from "./imap-args.ts";
import { expandAll, expandInput, matchArgs, MATCH, type MatchContext } from "./match.ts";
import { imapDatetime, parseMboxFrom, readMbox } from "./mbox.ts";
import { formatFailures, runScript, summarize, type ScriptResult } from "./runner.ts";
import { parseScriptText, ScriptParseError } from "./script.ts";

function args(s: string): ImapArg[] {
  const r = parseImapArgs(s, { literalType: true, multilineStr: true });
  if (!r.ok) throw new Error(r.error);
  return r.args;
}

function ctx(seqmap: number[] = []): MatchContext & { failures: string[] } {
  const failures: string[] = [];
  return { variables: new Map(), added: [], seqmap, fail: (m) => failures.push(m), failures };
}

describe("argument parser (Dovecot imap-parser rules)", () => {
  test("atoms, NIL, quoted strings, lists and literals", () => {
    const a = args('* 1 FETCH (FLAGS (\\Seen) BODY[1] {3}\r\nabc UID 7 X nil "q\\"s")');
    expect(argsToString(a)).toBe('* 1 FETCH (FLAGS (\\Seen) BODY[1] "abc" UID 7 X NIL "q\\"s")');
    const list = a[3] as { type: "list"; list: ImapArg[] };
    expect(list.list[3]).toEqual({ type: "literal", str: "abc", literal8: false });
    expect(list.list[7].type).toBe("nil");
  });
  test("')' belongs to an atom outside lists, ends it inside", () => {
    expect(argsToString(args("OK a) b"))).toBe("OK a) b");
    expect(argsToString(args("(a) b"))).toBe("(a) b");
  });
  test("literal8 and bracketed atoms", () => {
    const a = args("BINARY[1] ~{2}\r\n\0x");
    expect(a[1]).toEqual({ type: "literal", str: "\0x", literal8: true });
  });
  test("malformed input is an error, not a crash", () => {
    expect(parseImapArgs("(a b").ok).toBe(false);
    expect(parseImapArgs("a)").ok).toBe(true); // atom "a)" at top level, as Dovecot with ATOM_ALLCHARS
    expect(parseImapArgs(")").ok).toBe(false);
    expect(parseImapArgs('"unterminated').ok).toBe(false);
    expect(parseImapArgs("{5}\r\nab").ok).toBe(false);
    expect(parseImapArgs("{x}\r\n").ok).toBe(false);
  });
});

describe("script parser", () => {
  test("header, groups, default directives and the appended LOGOUT", () => {
    const t = parseScriptText(
      "s",
      "s",
      "m",
      [
        "capabilities: SORT",
        "messages: 3",
        "connections: 2",
        "",
        "# comment",
        "1 ok fetch 1 (uid flags)",
        "* 1 fetch (uid $uid flags (\\seen))",
        "2 append $mailbox",
        "no [trycreate]",
        "",
      ].join("\n"),
    );
    expect(t.requiredCapabilities).toEqual(["SORT"]);
    expect(t.messageCount).toBe(3);
    expect(t.connectionCount).toBe(2);
    expect(t.groups.length).toBe(3); // two groups + LOGOUT
    expect(t.groups[1].connIdx).toBe(1);
    expect(argsToString(t.groups[1].commands[0].reply!)).toBe("no [trycreate]");
    // FETCH items unordered in pairs, FLAGS unordered, no extras but \Recent
    expect(argsToString(t.groups[0].untagged![0].args)).toBe(
      "1 fetch ($!unordered=2 uid $uid flags ($!ignore=$HasNoAttachment $!ignore=$HasAttachment $!ignore=\\recent $!noextra $!unordered \\seen))",
    );
    expect(t.groups[2].commands[0]).toMatchObject({ command: "logout", linenum: 0 });
  });
  test("pipelined commands with tagN replies and multi-line literals", () => {
    const t = parseScriptText("p", "p", "m", ["state: auth", "", "tag1 append $mailbox {{{", "line1", "line2", "}}}", "tag2 noop", "tag2 ok", "tag1 ok", ""].join("\n"));
    expect(t.groups[0].commands.map((c) => c.command)).toEqual(["append $mailbox {12}\r\nline1\r\nline2", "noop"]);
    const bin = parseScriptText("b", "b", "m", ["", "ok append $mailbox ~{{{", "a\r", "b", "}}}", ""].join("\n"));
    expect(bin.groups[0].commands[0].command).toBe("append $mailbox ~{4}\r\na\r\nb");
  });
  test("errors are reported with the line", () => {
    expect(() => parseScriptText("e", "e", "m", "bogus\n\nok noop\n")).toThrow(ScriptParseError);
    expect(() => parseScriptText("e", "e", "m", "\nok noop\n? bye\n")).toThrow(/BYE/);
    expect(() => parseScriptText("e", "e", "m", "\nnoop\n")).toThrow(/Missing reply/);
  });
});

describe("matching (imaptest semantics)", () => {
  test("variables capture once, then compare", () => {
    const c = ctx();
    expect(matchArgs(c, args("1 fetch (uid $uid)"), 0, args("1 FETCH (UID 42)"), 0, MATCH, false)).toBe(MATCH);
    expect(c.variables.get("uid")).toBe("42");
    expect(matchArgs(c, args("2 fetch (uid $uid)"), 0, args("2 FETCH (UID 43)"), 0, MATCH, false)).not.toBe(MATCH);
    expect(expandInput(c, "[APPENDUID $v $u]", "[APPENDUID 9 3]")).toBe("[APPENDUID 9 3]");
    expect(c.variables.get("u")).toBe("3");
  });
  test("$ matches anything, also a list; NIL only matches NIL or $", () => {
    const c = ctx();
    expect(matchArgs(c, args("a $ c"), 0, args("a (x y) c"), 0, MATCH, false)).toBe(MATCH);
    expect(matchArgs(c, args("a NIL"), 0, args('a "NIL"'), 0, MATCH, false)).not.toBe(MATCH);
    expect(matchArgs(c, args("a $"), 0, args("a NIL"), 0, MATCH, false)).toBe(MATCH);
  });
  test("unordered lists, noextra, ignore and ban", () => {
    const t = parseScriptText("f", "f", "m", "\nok fetch 1 flags\n* 1 fetch (flags (\\seen \\flagged))\n* list ($!unordered $!ban=\\noselect) / x\n");
    const fetch = t.groups[0].untagged![0].args;
    const c = ctx();
    expect(matchArgs(c, fetch, 0, args("1 FETCH (FLAGS (\\Flagged \\Recent \\Seen))"), 0, MATCH, false)).toBe(MATCH);
    expect(matchArgs(c, fetch, 0, args("1 FETCH (FLAGS (\\Flagged \\Seen \\Deleted))"), 0, MATCH, false)).not.toBe(MATCH);
    expect(matchArgs(c, fetch, 0, args("1 FETCH (FLAGS (\\Seen))"), 0, MATCH, false)).not.toBe(MATCH);
    const list = t.groups[0].untagged![1].args;
    expect(matchArgs(c, list, 0, args("LIST (\\HasNoChildren) / x"), 0, MATCH, false)).toBe(MATCH);
    expect(matchArgs(c, list, 0, args("LIST (\\Noselect) / x"), 0, MATCH, false)).not.toBe(MATCH);
  });
  test("tagged replies match as a prefix", () => {
    const c = ctx();
    expect(matchArgs(c, args("ok"), 0, args("OK [READ-WRITE] done"), 0, MATCH, true)).toBe(MATCH);
    expect(matchArgs(c, args("no [trycreate]"), 0, args("NO [TRYCREATE] Mailbox doesn't exist"), 0, MATCH, true)).toBe(MATCH);
    expect(matchArgs(c, args("ok"), 0, args("NO failed"), 0, MATCH, true)).not.toBe(MATCH);
  });
  test("relative sequences and $$", () => {
    const c = ctx([0, 1, 2]);
    expect(expandAll(c, "fetch $2,$3 $$x $1", false)).toBe("fetch 1,2 $x <expunged>");
    expandAll(c, "fetch $nosuch", false);
    expect(c.failures).toEqual(["Uninitialized variable: nosuch"]);
  });
});

describe("mbox source", () => {
  test("From_ dates with and without zone, CRLF lines", () => {
    expect(parseMboxFrom("user@domain  Fri Feb 22 23:00:00 2008 +0200")).toEqual({ time: Date.UTC(2008, 1, 22, 21, 0, 0) / 1000, tzOffsetMin: 120 });
    expect(imapDatetime(Date.UTC(2008, 1, 22, 21, 0, 0) / 1000, 120)).toBe("22-Feb-2008 23:00:00 +0200");
    expect(parseMboxFrom("not a from line")).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), "imaptest-mbox-"));
    try {
      writeFileSync(join(dir, "m"), "From a  Fri Feb 22 17:06:23 2008\nSubject: 1\n\nbody\n\nFrom b  Fri Feb 22 17:06:23 2008\nSubject: 2\n\nx\n");
      const msgs = readMbox(join(dir, "m"));
      expect(msgs.map((m) => m.data)).toEqual(["Subject: 1\r\n\r\nbody\r\n\r\n", "Subject: 2\r\n\r\nx\r\n"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- whole scripts against a fake server ----

type Handler = (tag: string, cmd: string, send: (s: string) => void, sock: Socket) => void;

let server: Server | null = null;
let tmp: string | null = null;

afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = null;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

/** A fake IMAP server: LOGIN/LIST/LSUB/CREATE/APPEND/SELECT/LOGOUT work, everything else goes to `handler`. */
async function fakeServer(handler: Handler): Promise<number> {
  server = createServer((sock) => {
    sock.setEncoding("latin1");
    const send = (s: string) => sock.write(s, "latin1");
    send("* OK [CAPABILITY IMAP4rev1 LITERAL+ SORT] fake ready\r\n");
    let buf = "";
    let skip = 0;
    let inLiteralCommand = false;
    let exists = 0;
    sock.on("data", (d: string) => {
      buf += d;
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          buf = buf.slice(n);
          skip -= n;
          if (skip > 0) return;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const lit = /\{(\d+)\+\}$/.exec(line);
        if (lit) skip = Number(lit[1]);
        if (inLiteralCommand) {
          // the rest of a command after its literal
          inLiteralCommand = lit !== null;
          continue;
        }
        inLiteralCommand = lit !== null;
        const sp = line.indexOf(" ");
        const tag = line.slice(0, sp);
        const cmd = line.slice(sp + 1);
        const verb = cmd.split(" ")[0].toUpperCase();
        if (verb === "LOGIN") send(`${tag} OK [CAPABILITY IMAP4rev1 LITERAL+ SORT] logged in\r\n`);
        else if (verb === "LIST" || verb === "LSUB" || verb === "CREATE") send(`${tag} OK done\r\n`);
        else if (verb === "APPEND") {
          exists++;
          send(`${tag} OK [APPENDUID 1 ${exists}] appended\r\n`);
        } else if (verb === "SELECT") send(`* ${exists} EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n${tag} OK [READ-WRITE] selected\r\n`);
        else if (verb === "LOGOUT") {
          send(`* BYE bye\r\n${tag} OK logged out\r\n`);
          sock.end();
        } else handler(tag, cmd, send, sock);
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

async function runText(port: number, text: string, timeoutMs = 3000): Promise<ScriptResult> {
  const mbox = "From a  Fri Feb 22 17:06:23 2008\nSubject: s\n\nb\n";
  tmp = mkdtempSync(join(tmpdir(), "imaptest-runner-"));
  writeFileSync(join(tmp, "default.mbox"), mbox);
  const t = parseScriptText("t", join(tmp, "t"), join(tmp, "default.mbox"), text);
  return runScript(t, { host: "127.0.0.1", port, user: "u", password: "p", commandTimeoutMs: timeoutMs });
}

describe("whole scripts against a fake server", () => {
  test("a passing script: untagged in any order, variables, appended LOGOUT", async () => {
    const port = await fakeServer((tag, cmd, send) => {
      if (/^fetch 1:2 uid$/i.test(cmd)) send(`* 2 FETCH (UID 8)\r\n* 1 FETCH (UID 7)\r\n${tag} OK done\r\n`);
      else send(`${tag} OK\r\n`);
    });
    const r = await runText(port, "messages: 2\n\nok fetch 1:2 uid\n* 1 fetch (uid $u1)\n* 2 fetch (uid $u2)\nok noop\n");
    expect(formatFailures(r)).toBe("");
    expect(r).toMatchObject({ status: "passed", kind: "base", commandsRun: 3, commandsTotal: 3 });
  });

  test("wrong tagged status, missing and forbidden untagged replies are failures", async () => {
    const port = await fakeServer((tag, cmd, send) => {
      if (/^noop$/i.test(cmd)) send(`* 3 EXISTS\r\n${tag} NO nope\r\n`);
      else if (/^check$/i.test(cmd)) send(`${tag} OK\r\n`);
      else send(`${tag} OK\r\n`);
    });
    const r = await runText(port, "capabilities: SORT\n\nok noop\n! 3 exists\nok check\n* 1 exists\n");
    expect(r.status).toBe("failed");
    expect(r.kind).toBe("ext");
    const msgs = r.failures.map((f) => f.message);
    expect(msgs[0]).toStartWith("Unexpected untagged match:");
    expect(msgs[1]).toBe("Expected tagged reply 'ok', got 'NO nope'");
    expect(msgs[2]).toStartWith("Missing 1 untagged replies");
    expect(r.commandsRun).toBe(3);
    const s = summarize([r]);
    expect([s.groupsFailed, s.extFailed, s.extCommands, s.baseCommands]).toEqual([1, 3, 3, 0]);
  });

  test("an unexpected BAD disconnects like imaptest and ends the script", async () => {
    const port = await fakeServer((tag, _cmd, send) => send(`${tag} BAD what\r\n`));
    const r = await runText(port, "\nok noop\nok noop\n");
    expect(r.failures.map((f) => f.message)).toEqual(["Expected tagged reply 'ok', got 'BAD what'", "Unexpected disconnection (BAD reply for command: noop)"]);
    expect(r.commandsRun).toBe(1);
  });

  test("a missing capability skips the script", async () => {
    const port = await fakeServer((tag, _c, send) => send(`${tag} OK\r\n`));
    const r = await runText(port, "capabilities: THREAD=REFERENCES\n\nok noop\n");
    expect(r).toMatchObject({ status: "skipped", skipReason: "capability not advertised: THREAD=REFERENCES", commandsRun: 0 });
  });

  test("a server that never answers times out instead of hanging", async () => {
    const port = await fakeServer(() => {});
    const r = await runText(port, "\nok noop\n", 300);
    expect(r.status).toBe("failed");
    expect(r.failures[0].message).toStartWith("Timeout while waiting for server response");
  });
});
