/**
 * mbox files (RFC 4155): reading them as a stream of messages and writing
 * them. A message starts at a "From " line carrying a sender and an
 * asctime date (the From_ line); body lines that would look like one were
 * quoted with '>' by the writer. Reading undoes mboxrd quoting (">From ",
 * ">>From " ... lose one '>'), which is also right for mboxo files except
 * for lines that had a literal ">From " (mboxo cannot tell them apart).
 * Writing uses mboxrd quoting so a round trip gives back the same bytes.
 *
 * Reading streams the file: memory is bounded by the largest message kept
 * (larger ones are skipped and counted), never by the file.
 */
import { createReadStream } from "node:fs";

export interface MboxMessage {
  raw: Uint8Array;
  /** From the From_ line, else the Date: header; undefined if neither parses. */
  internalDate?: number;
  /** 1-based position in the file. */
  index: number;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** A From_ line: "From " sender, then an asctime-style date (RFC 4155 §2, "Thu Nov 24 18:22:48 1986"). */
const FROM_LINE = /^From \S*\s+(?:[A-Za-z]{3}\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:[A-Z]{2,5}\s+|[+-]\d{4}\s+)?(\d{4})/;

export function parseFromLineDate(line: string): number | undefined {
  const m = FROM_LINE.exec(line);
  if (!m) return undefined;
  const mon = MONTHS.indexOf(m[1]!.toLowerCase());
  if (mon < 0) return undefined;
  const t = Date.UTC(Number(m[6]), mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  return Number.isFinite(t) ? t : undefined;
}

export function isFromLine(line: string): boolean {
  return line.startsWith("From ") && FROM_LINE.test(line);
}

/** The Date: header of a message (first 64 KiB of its head), as ms, or undefined. */
export function headerDate(raw: Uint8Array): number | undefined {
  const head = Buffer.from(raw.subarray(0, Math.min(raw.length, 65536))).toString("latin1");
  const end = head.search(/\r?\n\r?\n/);
  const h = end >= 0 ? head.slice(0, end) : head;
  const m = /^date:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(h);
  if (m) {
    const t = Date.parse(m[1]!.replace(/\r?\n/g, " ").replace(/\([^)]*\)/g, "").trim());
    if (Number.isFinite(t)) return t;
  }
  const r = /^received:[^;]*;[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(h);
  if (r) {
    const t = Date.parse(r[1]!.replace(/\r?\n/g, " ").replace(/\([^)]*\)/g, "").trim());
    if (Number.isFinite(t)) return t;
  }
  return undefined;
}

const QUOTED_FROM = /^>+From /;

export interface MboxReadResult {
  /** Messages over `maxMessageBytes`, skipped. */
  tooLarge: number;
  /** Text before the first From_ line (not an mbox if nothing else came). */
  leadingBytes: number;
}

/**
 * Streams the messages of an mbox file to `onMessage` (awaited: the reader
 * pauses while the caller stores a batch). Throws a clear Error when the
 * file does not start like an mbox.
 */
export async function readMbox(path: string, onMessage: (m: MboxMessage) => Promise<void>, opts: { maxMessageBytes?: number } = {}): Promise<MboxReadResult> {
  const max = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  const result: MboxReadResult = { tooLarge: 0, leadingBytes: 0 };
  let parts: Buffer[] = [];
  let size = 0;
  let over = false;
  let date: number | undefined;
  let index = 0;
  let inMessage = false;
  let prevBlank = true;
  let rest: Buffer = Buffer.alloc(0);

  const finish = async () => {
    if (!inMessage) return;
    if (over) {
      result.tooLarge++;
    } else {
      let raw = Buffer.concat(parts, size);
      // The writer's separator: one empty line before the next From_ line (or at the end of the file).
      if (raw.length >= 2 && raw[raw.length - 1] === 0x0a && raw[raw.length - 2] === 0x0a) raw = raw.subarray(0, raw.length - 1);
      else if (raw.length >= 4 && raw.subarray(raw.length - 4).toString("latin1") === "\r\n\r\n") raw = raw.subarray(0, raw.length - 2);
      else if (raw.length >= 3 && raw.subarray(raw.length - 3).toString("latin1") === "\r\n\n") raw = raw.subarray(0, raw.length - 1);
      await onMessage({ raw: new Uint8Array(raw.buffer, raw.byteOffset, raw.length), internalDate: date ?? headerDate(raw), index });
    }
    parts = [];
    size = 0;
    over = false;
  };

  const line = async (l: Buffer) => {
    // Only the first bytes decide whether this is a From_ or quoted line.
    const start = l.subarray(0, Math.min(l.length, 200)).toString("latin1");
    if (start.startsWith("From ") && (prevBlank || !inMessage) && isFromLine(start)) {
      await finish();
      inMessage = true;
      index++;
      date = parseFromLineDate(start);
      prevBlank = false;
      return;
    }
    prevBlank = l.length === 1 || (l.length === 2 && l[0] === 0x0d);
    if (!inMessage) {
      result.leadingBytes += l.length;
      return;
    }
    if (QUOTED_FROM.test(start)) l = l.subarray(1);
    if (over) return;
    size += l.length;
    if (size > max) {
      over = true;
      parts = [];
      return;
    }
    parts.push(l);
  };

  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, from);
      if (nl < 0) break;
      await line(buf.subarray(from, nl + 1));
      from = nl + 1;
    }
    rest = Buffer.from(buf.subarray(from));
    // A line longer than the message limit cannot belong to a message we keep: drop what we hold of it.
    if (rest.length > max + 1024) {
      if (inMessage) over = true;
      rest = Buffer.alloc(0);
    }
  }
  if (rest.length) await line(rest);
  await finish();
  if (index === 0 && result.leadingBytes > 0) throw new Error("not an mbox file: it does not start with a \"From \" line");
  return result;
}

/** asctime in UTC for a From_ line: "Thu Nov 24 18:22:48 1986". */
export function asctime(ms: number): string {
  const d = new Date(ms);
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()]!;
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()]!;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** One message as mboxrd: From_ line, body with From-lines quoted, an empty separator line. */
export function mboxEntry(raw: Uint8Array, internalDate: number, sender = "MAILER-DAEMON"): Buffer[] {
  const out: Buffer[] = [Buffer.from(`From ${sender} ${asctime(internalDate)}\n`, "latin1")];
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  let from = 0;
  while (from < buf.length) {
    let nl = buf.indexOf(0x0a, from);
    if (nl < 0) nl = buf.length - 1;
    const l = buf.subarray(from, nl + 1);
    if (l[0] === 0x3e || l[0] === 0x46) {
      const head = l.subarray(0, Math.min(l.length, 200)).toString("latin1");
      if (/^>*From /.test(head)) out.push(Buffer.from(">", "latin1"));
    }
    out.push(l);
    from = nl + 1;
  }
  if (buf.length === 0 || buf[buf.length - 1] !== 0x0a) out.push(Buffer.from("\n"));
  out.push(Buffer.from("\n"));
  return out;
}
