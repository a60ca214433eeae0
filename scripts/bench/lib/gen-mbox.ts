/**
 * Writes a deterministic mbox for imaptest's `mbox=` (and any other bench
 * that needs realistic messages): plain-text and multipart/alternative
 * messages, some with an attachment, 1-30 KB, threads via In-Reply-To,
 * unique Message-IDs, From_ lines with dates.
 *
 *   bun scripts/bench/lib/gen-mbox.ts [--count 200] [--seed 1] > bench.mbox
 */
import { writeSync } from "node:fs";
import { formatMailDate } from "../../../mail/date.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const count = Number(arg("count", "200"));
let seed = Number(arg("seed", "1")) >>> 0 || 1;
function rand(n: number): number {
  // xorshift32: the same file on every run
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
}

const WORDS = "the quick brown fox jumps over lazy dog mail server message folder meeting report budget invoice project team weekly update review draft attached please thanks regards lunch schedule".split(" ");
const PEOPLE = ["Alice Able <alice@example.com>", "Bob Baker <bob@example.org>", "Carol Cole <carol@example.net>", "Dan Drew <dan@example.com>", '"Eve, E." <eve@example.org>'];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function words(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[rand(WORDS.length)]);
  return out.join(" ");
}
function paragraph(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const l = words(8 + rand(6));
    lines.push(l);
    size += l.length + 1;
  }
  return lines.join("\n");
}
function base64Lines(bytes: number): string {
  const raw = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) raw[i] = rand(256);
  return raw.toString("base64").replace(/.{76}/g, "$&\n");
}

const out: string[] = [];
const base = Date.UTC(2024, 0, 1, 8, 0, 0);
for (let i = 1; i <= count; i++) {
  const d = new Date(base + i * 3_600_000 + rand(3_600_000));
  const p2 = (n: number) => String(n).padStart(2, "0");
  const fromLine = `From bench@example.com  ${DAYS[(d.getUTCDay() + 6) % 7]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  const dateHdr = formatMailDate(d);
  const from = PEOPLE[rand(PEOPLE.length)];
  const to = PEOPLE[rand(PEOPLE.length)];
  const thread = i > 3 && rand(3) === 0 ? i - 1 - rand(3) : 0;
  const subject = thread ? `Re: topic ${thread}` : `topic ${i}: ${words(3 + rand(4))}`;
  const hdr = [`From: ${from}`, `To: ${to}`, ...(rand(4) === 0 ? [`Cc: ${PEOPLE[rand(PEOPLE.length)]}`] : []), `Subject: ${subject}`, `Date: ${dateHdr}`, `Message-ID: <bench-${i}@example.com>`];
  if (thread) hdr.push(`In-Reply-To: <bench-${thread}@example.com>`, `References: <bench-${thread}@example.com>`);
  hdr.push("MIME-Version: 1.0");
  const size = 1000 + rand(20_000);
  const kind = rand(4);
  let body: string;
  if (kind === 0) {
    hdr.push("Content-Type: text/plain; charset=us-ascii");
    body = paragraph(size);
  } else if (kind === 1 || kind === 2) {
    const b = `=_alt_${i}`;
    hdr.push(`Content-Type: multipart/alternative; boundary="${b}"`);
    const text = paragraph(size / 2);
    body = [
      "This is a multi-part message in MIME format.",
      `--${b}`,
      "Content-Type: text/plain; charset=us-ascii",
      "",
      text,
      `--${b}`,
      "Content-Type: text/html; charset=us-ascii",
      "",
      `<html><body><p>${text.replace(/\n/g, "</p>\n<p>")}</p></body></html>`,
      `--${b}--`,
      "",
    ].join("\n");
  } else {
    const b = `=_mixed_${i}`;
    hdr.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    body = [
      `--${b}`,
      "Content-Type: text/plain; charset=us-ascii",
      "",
      paragraph(600),
      `--${b}`,
      `Content-Type: application/octet-stream; name="file${i}.bin"`,
      "Content-Transfer-Encoding: base64",
      `Content-Disposition: attachment; filename="file${i}.bin"`,
      "",
      base64Lines(size),
      `--${b}--`,
      "",
    ].join("\n");
  }
  // mbox: escape body lines that look like a From_ line
  out.push(fromLine, ...hdr, "", body.replace(/^From /gm, ">From "), "");
}
writeSync(1, out.join("\n") + "\n");
