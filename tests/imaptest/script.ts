/**
 * Parser for imaptest's scripted-test format (wiki "ImapTest/ScriptedTests";
 * semantics follow imaptest src/test-parser.c at commit 924f619, the commit
 * the scripts in ../shared/imaptest-scripts come from).
 *
 * A script is a header of `key: value` lines, an empty line, then command
 * groups. A command line is `[conn] [tagN] ok|no|bad|"" <command>`; when the
 * status is left out, a following `ok ...` / `tagN ok ...` line gives the
 * expected tagged reply (matched as a prefix). `* ...` lines are untagged
 * replies that must arrive, `! ...` ones must not, `? ...` ones may.
 * `{{{` ... `}}}` (or `~{{{` for literal8) embed a literal.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { asciiLower, isAtom, parseImapArgs, type ImapArg } from "./imap-args.ts";

export type StartupState = "nonauth" | "auth" | "created" | "appended" | "selected";
export type Existence = "must" | "mustnot" | "may";

export interface TestCommand {
  /** Line in the script (0 for the LOGOUT the parser appends). */
  linenum: number;
  /** `tagN` number in the script (0 = none). */
  tag: number;
  command: string;
  /** Expected tagged reply, matched as a prefix. */
  reply: ImapArg[] | null;
}

export interface TestUntagged {
  args: ImapArg[];
  existence: Existence;
}

export interface CommandGroup {
  connIdx: number;
  commands: TestCommand[];
  untagged: TestUntagged[] | null;
  output: string[];
  sleepMs: number;
  haveBye: boolean;
  repliesPending: number;
}

export interface ImapTestScript {
  name: string;
  path: string;
  mboxPath: string;
  /** null when the script has no `capabilities:` header (a base-protocol test). */
  requiredCapabilities: string[] | null;
  /** Messages appended before the test (Infinity = "all"). */
  messageCount: number;
  startupState: StartupState;
  connectionCount: number;
  usernames: (string | undefined)[];
  requireUser2: boolean;
  ignoreExtraUntagged: boolean;
  groups: CommandGroup[];
}

export class ScriptParseError extends Error {}

const REPLY = {
  ok: (): ImapArg[] => [{ type: "atom", str: "ok" }],
  no: (): ImapArg[] => [{ type: "atom", str: "no" }],
  bad: (): ImapArg[] => [{ type: "atom", str: "bad" }],
  any: (): ImapArg[] => [{ type: "atom", str: "" }],
};

interface DirectiveCtx {
  parent: DirectiveCtx | null;
  replyName: string;
  prevAtom: string | null;
  parentChainIdx: number;
  chainCount: number;
  directives: boolean;
}

function directive(str: string): ImapArg {
  return { type: "atom", str };
}

function listParseDirectives(ctx: DirectiveCtx, args: ImapArg[]): void {
  for (const a of args) {
    if (!isAtom(a) || !a.str.startsWith("$!")) break;
    const s = a.str.slice(2);
    if (s.startsWith("unordered")) {
      if (s.length === 9) {
        /* ok */
      } else if (s[9] === "=" && /^\d+$/.test(s.slice(10))) ctx.chainCount = Number(s.slice(10));
      else throw new ScriptParseError("Broken $!unordered directive");
    } else if (s === "ordered" || s === "noextra" || s === "extra" || s.startsWith("ignore=") || s.startsWith("ban=")) {
      /* ok */
    } else throw new ScriptParseError(`Unknown directive: ${s}`);
    ctx.directives = true;
  }
}

/** imaptest's implicit directives: LIST/LSUB flags, STATUS items, FETCH items and FETCH FLAGS match in any order. */
function addDefaultDirectives(ctx: DirectiveCtx, args: ImapArg[]): void {
  const parent = ctx.parent;
  if (!parent) return;
  const name = ctx.replyName;
  if (name === "list" || name === "lsub") {
    if (parent.parent === null && parent.parentChainIdx === 0 && ctx.parentChainIdx === 1) args.unshift(directive("$!unordered"));
  } else if (name === "status") {
    if (parent.parent === null && parent.parentChainIdx === 0 && ctx.parentChainIdx === 2) args.unshift(directive("$!unordered=2"));
  } else if (name === "fetch") {
    if (parent.parent === null && parent.parentChainIdx === 0 && ctx.parentChainIdx === 2) {
      args.unshift(directive("$!unordered=2"));
    } else if (
      parent.parent !== null &&
      parent.parent.parent === null &&
      parent.parent.parentChainIdx === 0 &&
      parent.parentChainIdx === 2 &&
      ctx.prevAtom === "flags"
    ) {
      // each is inserted at the front, as imaptest does, so the final order is reversed
      for (const d of ["$!unordered", "$!noextra", "$!ignore=\\recent", "$!ignore=$HasAttachment", "$!ignore=$HasNoAttachment"]) {
        args.unshift(directive(d));
      }
    }
  }
}

function handleDirectives(ctx: DirectiveCtx, args: ImapArg[]): void {
  listParseDirectives(ctx, args);
  if (!ctx.directives) addDefaultDirectives(ctx, args);

  // imaptest's count loop looks only at the first argument: if it is a
  // directive every argument counts as one, which disables the check.
  let directiveCount = 0;
  for (let i = 0; i < args.length; i++) {
    const first = args[0];
    if (!isAtom(first) || !first.str.startsWith("$!")) break;
    directiveCount++;
  }
  if ((args.length - directiveCount) % ctx.chainCount !== 0) {
    throw new ScriptParseError(`Invalid list argument count, chain size=${ctx.chainCount}`);
  }

  let prevAtom: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (isAtom(a)) prevAtom = asciiLower(a.str);
    if (a.type !== "list") continue;
    const sub: DirectiveCtx = {
      parent: ctx,
      replyName: asciiLower(ctx.replyName),
      chainCount: 1,
      prevAtom,
      parentChainIdx: ctx.chainCount === 1 ? i : i % ctx.chainCount,
      directives: false,
    };
    handleDirectives(sub, a.list);
  }
}

function parseArgsOrThrow(line: string): ImapArg[] {
  const r = parseImapArgs(line, { literalType: true, multilineStr: true });
  if (!r.ok) throw new ScriptParseError(r.error);
  return r.args;
}

function getCmdReply(line: string): { reply: ImapArg[] | null; tag: number; rest: string } {
  let tag = 0;
  let rest = line;
  let word = rest.split(" ", 1)[0];
  if (word.slice(0, 3).toLowerCase() === "tag") {
    const sp = rest.indexOf(" ");
    const n = word.slice(3);
    if (sp >= 0 && /^\d+$/.test(n) && Number(n) > 0) {
      rest = rest.slice(sp + 1);
      tag = Number(n);
      word = rest.split(" ", 1)[0];
    }
  }
  let reply: ImapArg[] | null = null;
  const w = word.toLowerCase();
  if (w === "ok") {
    reply = REPLY.ok();
    rest = rest.slice(2);
  } else if (w === "no") {
    reply = REPLY.no();
    rest = rest.slice(2);
  } else if (w === "bad") {
    reply = REPLY.bad();
    rest = rest.slice(3);
  } else if (w === '""') {
    reply = REPLY.any();
    rest = rest.slice(2);
  }
  if (reply !== null && rest[0] === " ") rest = rest.slice(1);
  return { reply, tag, rest };
}

interface ParserState {
  group: CommandGroup | null;
}

function parseHeaderLine(test: ImapTestScript, line: string, user2Template: string | undefined): void {
  const colon = line.indexOf(":");
  if (colon < 0) throw new ScriptParseError("Missing ':'");
  const key = line.slice(0, colon).replace(/ +$/, "").toLowerCase();
  const value = line.slice(colon + 1).replace(/^ +/, "");
  if (key === "capabilities") {
    test.requiredCapabilities = value.split(" ").filter((s) => s !== "");
    return;
  }
  if (key === "connections") {
    test.connectionCount = value === "n" ? 2 : parseInt(value, 10) || 0;
    return;
  }
  if (key === "ignore_extra_untagged") {
    test.ignoreExtraUntagged = value[0] === "y";
    return;
  }
  const um = /^user (\d+)$/.exec(key);
  if (um && Number(um[1]) !== 0) {
    let v: string | undefined = value;
    if (value === "$user2" || value === "${user2}") {
      test.requireUser2 = true;
      v = user2Template;
    }
    test.usernames[Number(um[1]) - 1] = v;
    return;
  }
  if (key === "messages") {
    test.messageCount = value === "all" ? Infinity : parseInt(value, 10) || 0;
    return;
  }
  if (key === "state") {
    const v = value.toLowerCase();
    if (v === "nonauth" || v === "created" || v === "appended" || v === "selected") test.startupState = v;
    else if (v === "auth") test.startupState = "auth";
    else throw new ScriptParseError("Unknown state value");
    return;
  }
  throw new ScriptParseError("Unknown setting");
}

function parseUntagged(group: CommandGroup, line: string, existence: Existence): void {
  const args = parseArgsOrThrow(line);
  let str = "";
  const a0 = args[0];
  if (isAtom(a0)) {
    str = a0.str;
    if (str[0] === "$" || (str[0] >= "0" && str[0] <= "9")) {
      const a1 = args[1];
      str = isAtom(a1) ? a1.str : "";
    }
  }
  const ctx: DirectiveCtx = { parent: null, replyName: str, prevAtom: null, parentChainIdx: 0, chainCount: 1, directives: false };
  handleDirectives(ctx, args);
  if (str.slice(0, 3).toUpperCase() === "BYE") {
    if (existence === "must") group.haveBye = true;
    else if (existence === "may") throw new ScriptParseError("? BYE not currently supported");
  }
  if (!group.untagged) group.untagged = [];
  group.untagged.push({ args, existence });
}

function parseCommandLine(test: ImapTestScript, st: ParserState, linenum: number, line: string): void {
  let group = st.group;
  if (line.startsWith("!ifenv ") || line.startsWith("!ifnenv ") || line === "!else" || line === "!endif") {
    throw new ScriptParseError("!ifenv is not supported by this runner");
  }
  if (group !== null) {
    if (line.startsWith("!sleep ")) {
      const m = /^(\d+)\s*(ms|msecs?|s|secs?)?$/.exec(line.slice(7).trim());
      if (!m) throw new ScriptParseError(`Invalid !sleep value ${line.slice(7)}`);
      // like settings_get_time_msecs(): a bare number is milliseconds
      group.sleepMs = Number(m[1]) * (m[2] === undefined || m[2].startsWith("m") ? 1 : 1000);
      return;
    }
    if (line.startsWith("!output ")) {
      group.output.push(line.slice(8));
      return;
    }
    const p2 = line.slice(0, 2);
    if (p2 === "* " || p2 === "! " || p2 === "? ") {
      parseUntagged(group, line.slice(2), p2 === "* " ? "must" : p2 === "! " ? "mustnot" : "may");
      return;
    }
    if (group.repliesPending > 0) {
      const r = getCmdReply(line);
      if (r.reply !== null) {
        const cmd = group.commands.find((c) => c.tag === r.tag);
        if (!cmd) throw new ScriptParseError("Reply for unknown tag");
        if (cmd.reply !== null) throw new ScriptParseError("Command already has a reply");
        const args = parseArgsOrThrow(line);
        cmd.reply = args.slice(r.tag === 0 ? 0 : 1);
        group.repliesPending--;
        return;
      }
    }
  }

  if (group === null || group.repliesPending === 0) {
    group = { connIdx: 0, commands: [], untagged: null, output: [], sleepMs: 0, haveBye: false, repliesPending: 0 };
    st.group = group;
    test.groups.push(group);
  }

  if (test.connectionCount > 1) {
    const first = line.split(" ", 1)[0];
    if (!/^\d+$/.test(first) || Number(first) === 0) throw new ScriptParseError("Missing client index");
    const idx = Number(first);
    if (group.commands.length > 0 && group.connIdx !== idx - 1) {
      throw new ScriptParseError("All pipelined commands must use the same connection");
    }
    group.connIdx = idx - 1;
    if (test.connectionCount < idx) test.connectionCount = idx;
    const sp = line.indexOf(" ");
    line = sp < 0 ? "" : line.slice(sp + 1);
  }

  const r = getCmdReply(line);
  if (r.tag === 0) {
    if (group.repliesPending > 0) throw new ScriptParseError("Missing reply from previous command group");
  } else if (group.commands.some((c) => c.tag === r.tag)) {
    throw new ScriptParseError("Tag reused within command group");
  }
  if (r.reply === null) group.repliesPending++;
  group.commands.push({ linenum, tag: r.tag, command: r.rest, reply: r.reply });
}

/**
 * Parses a script's bytes (given as a latin1 "binary string").
 * `user2Template` is what `user N: $user2` resolves to (undefined = none configured).
 */
export function parseScriptText(name: string, path: string, mboxPath: string, text: string, user2Template?: string): ImapTestScript {
  const test: ImapTestScript = {
    name,
    path,
    mboxPath,
    requiredCapabilities: null,
    messageCount: 0,
    startupState: "selected",
    connectionCount: 1,
    usernames: [],
    requireUser2: false,
    ignoreExtraUntagged: true,
    groups: [],
  };
  const st: ParserState = { group: null };
  let header = true;
  let continues = false;
  let binary = false;
  let multiline = "";
  let startPos = 0;
  let lastLineEnd = 0;
  let startLinenum = 0;
  let linenum = 0;

  if (text.length > 0 && !text.endsWith("\n")) throw new ScriptParseError(`${path}: Last line doesn't end with LF`);
  const rawLines = text.split("\n");
  rawLines.pop();

  for (let line of rawLines) {
    linenum++;
    if (continues) {
      if (!line.startsWith("}}}")) {
        multiline += line;
        lastLineEnd = multiline.length;
        multiline += binary ? "\n" : "\r\n";
        continue;
      }
      multiline = multiline.slice(0, lastLineEnd);
      line = line.slice(3);
      const litLen = multiline.length - startPos;
      multiline = multiline.slice(0, startPos) + `${binary ? "~" : ""}{${litLen}}\r\n` + multiline.slice(startPos);
      if (line.endsWith("{{{")) {
        let len = line.length;
        if (len > 3 && line[len - 4] === "~") {
          len--;
          binary = true;
        } else binary = false;
        multiline += line.slice(0, len - 3);
        startPos = multiline.length;
        lastLineEnd = multiline.length;
        continue;
      }
      multiline += line;
      line = multiline;
      continues = false;
    } else {
      startLinenum = linenum;
      if (line.length === 0) {
        header = false;
        continue;
      }
      if (line[0] === "#") continue;
      if (line.endsWith("{{{")) {
        let len = line.length;
        if (len > 3 && line[len - 4] === "~") {
          len--;
          binary = true;
        } else binary = false;
        multiline = line.slice(0, len - 3);
        startPos = multiline.length;
        lastLineEnd = multiline.length;
        continues = true;
        continue;
      }
    }
    try {
      if (header) parseHeaderLine(test, line, user2Template);
      else parseCommandLine(test, st, startLinenum, line);
    } catch (e) {
      if (e instanceof ScriptParseError) throw new ScriptParseError(`${path} line ${linenum}: ${e.message}`);
      throw e;
    }
  }
  if (continues) throw new ScriptParseError(`${path}: Multiline reply at line ${startLinenum} not ended`);
  if (st.group === null) throw new ScriptParseError(`${path}: No commands in file`);
  if (st.group.repliesPending > 0) throw new ScriptParseError(`${path} line ${linenum}: Missing reply from previous command`);

  // Like imaptest: a LOGOUT on the first connection ends every script that doesn't log out itself.
  const hasLogout = test.groups.some((g) => g.haveBye || g.commands.some((c) => c.command.toLowerCase() === "logout"));
  if (!hasLogout) {
    test.groups.push({
      connIdx: 0,
      commands: [{ linenum: 0, tag: 0, command: "logout", reply: REPLY.ok() }],
      untagged: null,
      output: [],
      sleepMs: 0,
      haveBye: false,
      repliesPending: 0,
    });
  }
  return test;
}

/** Script names in a directory, as imaptest picks them: every non-dot, non-.mbox regular file, sorted. */
export function listScripts(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith(".") && !n.endsWith(".mbox"))
    .filter((n) => statSync(join(dir, n)).isFile())
    .filter((n) => !isDocumentation(n))
    .sort();
}

/**
 * The shared scripts folder carries README.md and LICENSE.MIT next to the
 * scripts; imaptest's own src/tests folder doesn't, so they are not tests.
 */
function isDocumentation(name: string): boolean {
  return name === "README.md" || name === "LICENSE.MIT" || /^(README|LICENSE|COPYING)(\..*)?$/.test(name);
}

export function loadScript(path: string, user2Template?: string): ImapTestScript {
  const dir = dirname(path);
  const own = `${path}.mbox`;
  const mboxPath = existsSync(own) ? own : join(dir, "default.mbox");
  const text = readFileSync(path).toString("latin1");
  return parseScriptText(basename(path), path, mboxPath, text, user2Template);
}
