/**
 * Fuzz target for ManageSieve (protocols/managesieve/): the sans-IO command
 * reader and the whole session behind it (authentication, every script
 * command, the real Sieve compiler) over an in-memory store. Nothing may
 * throw or reach the session's "failed" path; buffered input stays within the
 * reader's bounds; output is always whole responses.
 */
import fc from "fast-check";
import { CommandReader, MAX_ARGS, MAX_QUOTED, MAX_SEGMENT } from "../../../protocols/managesieve/parser.ts";
import { unitSession } from "../../managesieve/memory.ts";
import type { FuzzTarget } from "./engine.ts";

const latin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const AUTH = `AUTHENTICATE "PLAIN" "${Buffer.from("\0erin@unit.test\0pw").toString("base64")}"\r\n`;

const SEEDS = [
  AUTH + 'PUTSCRIPT "a" {27+}\r\nrequire "fileinto";\r\nkeep;\r\nSETACTIVE "a"\r\nLISTSCRIPTS\r\nGETSCRIPT "a"\r\nRENAMESCRIPT "a" "b"\r\nDELETESCRIPT "b"\r\nLOGOUT\r\n',
  'CAPABILITY\r\nAUTHENTICATE "LOGIN"\r\n"ZXJpbkB1bml0LnRlc3Q="\r\n{4+}\r\ncHc=\r\nHAVESPACE "x" 100\r\nCHECKSCRIPT "if true { stop; }"\r\nNOOP "tag"\r\nUNAUTHENTICATE\r\n',
  'AUTHENTICATE "PLAIN"\r\n"*"\r\nSTARTTLS\r\nPUTSCRIPT "\xc3\x28" {3}\r\nx;\r\nSETACTIVE ""\r\nGETSCRIPT "a\\"b"\r\n',
  AUTH + 'PUTSCRIPT "big" {99999+}\r\nxx\r\nPUTSCRIPT "v" {61+}\r\nrequire ["vacation"];\r\nvacation :days 3 "away";\r\nkeep;\r\n\r\n',
].map(latin);

async function run(input: Uint8Array): Promise<void> {
  // The reader alone, with small bounds so the limits are reached often.
  const r = new CommandReader({ maxLiteral: 64, hardCap: 512 });
  let dead = false;
  for (let i = 0; i < input.length; i += 37) {
    for (const ev of r.feed(input.subarray(i, i + 37))) {
      if (dead) throw new Error("invariant: events after a fatal one");
      if (ev.type === "fatal") dead = true;
      if (ev.type === "line") {
        if (ev.tokens.length > MAX_ARGS + 1) throw new Error("invariant: too many tokens");
        for (const t of ev.tokens) {
          if (t.kind === "string" && !t.literal && t.bytes.length > MAX_QUOTED) throw new Error("invariant: quoted string over 1024 octets");
          if (t.kind === "string" && t.literal && t.bytes.length > 64) throw new Error("invariant: literal over maxLiteral kept");
        }
      }
    }
    if (r.pending > MAX_SEGMENT + 64) throw new Error(`invariant: reader holds ${r.pending} octets`);
  }
  // The whole session: every input is answered with whole responses, never an internal error.
  const errors: string[] = [];
  const { io, session } = unitSession({ maxScriptBytes: 256, maxScripts: 3, errors });
  session.greet();
  for (let i = 0; i < input.length; i += 53) session.receive(input.subarray(i, i + 53));
  await session.whenIdle();
  if (errors.length) throw new Error(`session error: ${errors.join("; ")}`);
  if (io.out.length && !/(?:^|\r\n)(?:OK|NO|BYE)[^\r\n]*\r\n$|\r\n$/.test(io.out)) throw new Error("invariant: partial response");
}

const arb = fc
  .array(
    fc.oneof(
      fc.constantFrom("AUTHENTICATE ", "PUTSCRIPT ", "GETSCRIPT ", "SETACTIVE ", "LISTSCRIPTS", "CHECKSCRIPT ", "HAVESPACE ", "RENAMESCRIPT ", "DELETESCRIPT ", "NOOP ", "UNAUTHENTICATE", "LOGOUT", AUTH),
      fc.constantFrom('"PLAIN"', '"LOGIN"', '"*"', '""', '"a"', '"\\\\"', '"\\"', "keep;", 'require "fileinto";', "if true {", "}"),
      fc.nat(300).map((n) => `{${n}+}\r\n`),
      fc.nat(300).map((n) => `{${n}}\r\n`),
      fc.string({ maxLength: 20 }),
      fc.constantFrom("\r\n", " ", "\n", "\0"),
    ),
    { maxLength: 40 },
  )
  .map((a) => latin(a.join("")));

export const MANAGESIEVE_TARGET: FuzzTarget = { name: "managesieve", seeds: SEEDS, run, arbitrary: arb, maxLen: 16384 };
