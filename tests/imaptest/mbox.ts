/**
 * The message source imaptest APPENDs from (imaptest src/mailbox-source-mbox.c):
 * messages are split at "From " lines that parse as mbox From_ lines, every
 * line is sent with CRLF, and the From_ line's date becomes the INTERNALDATE.
 * Reading past the last message wraps around to the first.
 */
import { readFileSync } from "node:fs";

export interface MboxMessage {
  /** Message octets with CRLF line ends (latin1 binary string). */
  data: string;
  /** Unix time (seconds) and timezone offset (minutes) from the From_ line. */
  time: number;
  tzOffsetMin: number;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** Port of Dovecot's mbox_from_parse() for the text after "From ". Returns null if it isn't a From_ line. */
export function parseMboxFrom(line: string): { time: number; tzOffsetMin: number } | null {
  let p = 0;
  const end = line.length;
  if (line[p] === '"') {
    let esc = false;
    p++;
    while (p < end && (line[p] !== '"' || esc)) {
      esc = line[p] === "\\";
      p++;
    }
    p++;
  }
  while (p < end && line[p] !== " ") p++;
  while (p < end && line[p] === " ") p++;
  if (p + 29 - 3 - 5 > end) return null;
  p += 4; // weekday
  const month = (s: string) => {
    const i = MONTHS.indexOf(s.slice(0, 3).toLowerCase());
    return i >= 0 && s[3] === " " ? i : -1;
  };
  let mon = month(line.slice(p, p + 4));
  let mday = 0;
  let year = 0;
  let altStamp = false;
  if (mon < 0) {
    // "Thu, 9 Nov 2002 22:33:52"
    altStamp = true;
    p++;
    if (!isDigit(line[p])) return null;
    mday = Number(line[p++]);
    if (isDigit(line[p])) mday = mday * 10 + Number(line[p++]);
    if (line[p] !== " ") return null;
    p++;
    mon = month(line.slice(p, p + 4));
    if (mon < 0) return null;
    p += 4;
    const y = line.slice(p, p + 4);
    if (!/^\d{4}$/.test(y)) return null;
    year = Number(y);
    p += 5;
  } else {
    p += 4;
    if (line[p] === " ") p++;
    if (line[p + 1] === " ") {
      if (!isDigit(line[p])) return null;
      mday = Number(line[p]);
      p += 2;
    } else {
      if (!isDigit(line[p]) || !isDigit(line[p + 1]) || line[p + 2] !== " ") return null;
      mday = Number(line.slice(p, p + 2));
      p += 3;
    }
  }
  if (mday === 0) mday = 1;
  if (!isDigit(line[p]) || !isDigit(line[p + 1]) || line[p + 2] !== ":") return null;
  const hour = Number(line.slice(p, p + 2));
  p += 3;
  if (!isDigit(line[p]) || !isDigit(line[p + 1])) return null;
  const min = Number(line.slice(p, p + 2));
  p += 2;
  let sec = 0;
  if (line[p] === ":") {
    p++;
    if (!isDigit(line[p]) || !isDigit(line[p + 1])) return null;
    sec = Number(line.slice(p, p + 2));
    p += 2;
    if (!altStamp) {
      if (line[p] === " ") p++;
      else return null;
    }
  } else if (!altStamp) {
    if (line[p] !== " ") return null;
    p++;
  }
  let seenTz = false;
  let tzSecs = 0;
  if (!altStamp && !(isDigit(line[p]) && isDigit(line[p + 1]) && isDigit(line[p + 2]) && isDigit(line[p + 3]))) {
    // named (or numeric) timezone before the year: skipped, as Dovecot does
    while (p < end && line[p] !== " ") p++;
    if (p + 5 > end) return null;
    p++;
  }
  if (!altStamp) {
    const y = line.slice(p, p + 4);
    if (!/^\d{4}$/.test(y)) return null;
    year = Number(y);
    p += 4;
  }
  if (p !== end && line[p] === " " && (line[p + 1] === "-" || line[p + 1] === "+") && /^\d{4}$/.test(line.slice(p + 2, p + 6))) {
    seenTz = true;
    // Dovecot adds the minutes' digits as seconds (hh*3600 + m1*10 + m2); kept for identical INTERNALDATEs.
    tzSecs = Number(line[p + 2]) * 36000 + Number(line[p + 3]) * 3600 + Number(line[p + 4]) * 10 + Number(line[p + 5]);
    if (line[p + 1] === "-") tzSecs = -tzSecs;
  }
  if (seenTz) {
    const t = Date.UTC(year, mon, mday, hour, min, sec) / 1000 - tzSecs;
    return { time: t, tzOffsetMin: Math.trunc(tzSecs / 60) };
  }
  const d = new Date(year, mon, mday, hour, min, sec);
  return { time: d.getTime() / 1000, tzOffsetMin: -d.getTimezoneOffset() };
}

const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** imap_to_datetime_tz(): "dd-Mon-yyyy hh:mm:ss +zzzz" in the given zone. */
export function imapDatetime(time: number, tzOffsetMin: number): string {
  const d = new Date((time + tzOffsetMin * 60) * 1000);
  const p2 = (n: number) => String(n).padStart(2, "0");
  const sign = tzOffsetMin >= 0 ? "+" : "-";
  const tz = Math.abs(tzOffsetMin);
  return (
    `${p2(d.getUTCDate())}-${MONTH_NAMES[d.getUTCMonth()]}-${String(d.getUTCFullYear()).padStart(4, "0")} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${sign}${p2(Math.floor(tz / 60))}${p2(tz % 60)}`
  );
}

/** Splits an mbox file into messages. */
export function readMbox(path: string): MboxMessage[] {
  const text = readFileSync(path).toString("latin1");
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const strip = (l: string) => (l.endsWith("\r") ? l.slice(0, -1) : l);
  const out: MboxMessage[] = [];
  let i = 0;
  if (lines.length === 0) throw new Error(`Empty mbox file: ${path}`);
  while (i < lines.length) {
    const first = strip(lines[i]);
    const from = first.startsWith("From ") ? parseMboxFrom(first.slice(5)) : null;
    if (!from) throw new Error(`Not a valid mbox file (no From_ line at line ${i + 1}): ${path}`);
    i++;
    const body: string[] = [];
    while (i < lines.length) {
      const l = strip(lines[i]);
      if (l.startsWith("From ") && parseMboxFrom(l.slice(5)) !== null) {
        if (body.length > 0) break;
        // consecutive From_ lines: the body starts after the last one (the first one's date stays)
        i++;
        continue;
      }
      body.push(l);
      i++;
    }
    if (body.length === 0) throw new Error(`mbox file ends with From-line: ${path}`);
    out.push({ data: body.map((l) => l + "\r\n").join(""), time: from.time, tzOffsetMin: from.tzOffsetMin });
  }
  return out;
}

/** A cursor over an mbox's messages that wraps around, shared by a test's connections. */
export class MboxSource {
  private next = 0;
  constructor(private readonly messages: MboxMessage[]) {}
  static open(path: string): MboxSource {
    return new MboxSource(readMbox(path));
  }
  /** True when the next message would wrap around to the first. */
  eof(): boolean {
    return this.next >= this.messages.length;
  }
  take(): MboxMessage {
    if (this.next >= this.messages.length) this.next = 0;
    return this.messages[this.next++];
  }
}
