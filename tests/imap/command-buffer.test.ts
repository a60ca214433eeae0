/**
 * The IMAP command buffer (parser.ts) grows by doubling and has a hard cap
 * (issue 13 item 2: it grew 64 KB at a time, copying itself each time, and
 * without limit when input kept arriving while the session was not reading).
 */
import { describe, expect, test } from "bun:test";
import { CommandParser, DEFAULT_LIMITS } from "../../protocols/imap/parser.ts";

describe("IMAP command buffer", () => {
  test("unconsumed input grows the buffer geometrically, and input past the hard cap is refused", () => {
    const p = new CommandParser();
    const chunk = new Uint8Array(16 * 1024).fill(65); // no newline: nothing can be consumed
    const sizes = new Set<number>();
    let pushed = 0;
    let refused = false;
    while (pushed < 8 * 1024 * 1024) {
      const r = p.push(chunk);
      if (r === false) {
        refused = true;
        break;
      }
      pushed += chunk.length;
      sizes.add(p.capacity);
    }
    // 64 KiB doubling up to the cap: a handful of reallocations, not one per 64 KiB
    expect(sizes.size).toBeLessThanOrEqual(8);
    expect(refused).toBe(true);
    expect(pushed).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBuffered);
    // the parser is dead: it holds nothing and produces nothing more
    expect(p.buffered).toBe(0);
    expect(p.next()).toBeNull();
    expect(p.push(new TextEncoder().encode("a NOOP\r\n"))).toBe(false);
  });

  test("a line of pipelined commands consumed as it arrives keeps the buffer small", () => {
    const p = new CommandParser();
    const enc = new TextEncoder();
    let cmds = 0;
    for (let i = 0; i < 20_000; i++) {
      expect(p.push(enc.encode(`a${i} NOOP\r\nb${i} NO`))).toBe(true);
      for (let ev = p.next(); ev; ev = p.next()) if (ev.type === "command") cmds++;
      expect(p.push(enc.encode("OP\r\n"))).toBe(true);
      for (let ev = p.next(); ev; ev = p.next()) if (ev.type === "command") cmds++;
    }
    expect(cmds).toBe(40_000);
    expect(p.capacity).toBeLessThanOrEqual(64 * 1024);
  });
});
