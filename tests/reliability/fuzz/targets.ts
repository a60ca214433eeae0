/**
 * Fuzz targets: every parser Pillarbox owns. Each `run` feeds one input
 * through the parser the way the session would (split into chunks at
 * input-derived points) and only throws for a real defect: documented error
 * values (ParseError objects, ParseEvent "error"/"fatal", WbxmlError) are the
 * parser doing its job.
 */
import fc from "fast-check";
import * as smtp from "../../../protocols/smtp/parser.ts";
import { HEADROOM } from "../../../protocols/smtp/message-buffer.ts";
import { CommandParser } from "../../../protocols/imap/parser.ts";
import { LineReader, parseCommand, parseNumber } from "../../../protocols/pop3/parser.ts";
import { analyzeMessage, parseAddressList, parseMessageIds, decodeWords, parseMailDate, parseParams, parseMime, partText } from "../../../mail/index.ts";
import { decode as wbxmlDecode, encode as wbxmlEncode, WbxmlError } from "../../../protocols/http/eas/wbxml/codec.ts";
import { canonicalLineEnds, canonicalMessage, firstBareLineEnd, fromFields } from "../../../mail/line-endings.ts";
import { fromAddresses } from "../../../src/delivery/index.ts";
import { dkimVerify } from "mailauth";
import type { FuzzTarget } from "./engine.ts";
import { MAIL_TARGETS } from "./mail-targets.ts";
import { GROUPWARE_TARGETS } from "./groupware-targets.ts";
import { DAV_XML_TARGET } from "./dav-xml-target.ts";
import { EAS_GROUPWARE_TARGETS } from "./eas-groupware-targets.ts";
import { SIEVE_RUN_TARGET } from "./sieve-run-target.ts";
import { MANAGESIEVE_TARGET } from "./managesieve-target.ts";
import { SIEVE_TARGETS } from "./sieve-targets.ts";
import { AUTODISCOVER_XML_TARGET, EWS_SOAP_TARGET } from "./ews-target.ts";
import { MAPI_NSPI_TARGET } from "./mapi-nspi-target.ts";
import { MAPI_ROP_TARGET } from "./mapi-rop-target.ts";

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);
const latin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** Chunk boundaries derived from the input itself, so a saved input replays identically. */
function chunks(input: Uint8Array): Uint8Array[] {
  if (input.length < 4) return [input];
  const out: Uint8Array[] = [];
  let pos = 0;
  let k = (input[0]! ^ input[input.length - 1]!) | 1;
  while (pos < input.length) {
    const len = 1 + ((k * 7919 + pos) % 257);
    out.push(input.subarray(pos, pos + len));
    pos += len;
    k = (k * 31 + 17) & 0xffff;
  }
  return out;
}

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}

// ---------------------------------------------------------------- SMTP

const SMTP_SEEDS = [
  "EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.com\r\nDATA\r\n",
  "HELO x\r\nMAIL FROM:<> \r\nRCPT TO:<@a.example,@b.example:user@c.example>\r\nRSET\r\nQUIT\r\n",
  "MAIL FROM:<\"quoted local\"@example.org> SMTPUTF8\r\nRCPT TO:<user%other@example.com>\r\nRCPT TO:<host!user@example.com>\r\nRCPT TO:<user@[127.0.0.1]>\r\nRCPT TO:<user@[IPv6:::1]>\r\nRCPT TO:<user@example.com.>\r\n",
  "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nAUTH LOGIN\r\nYWxpY2U=\r\nBDAT 100 LAST\r\nBDAT 0\r\nVRFY x\r\nNOOP\r\nSTARTTLS\r\n",
  "RCPT TO:<Postmaster>\r\nMAIL FROM:<a+b=2Bc@x.y> ENVID=abc+2B RET=HDRS\r\nRCPT TO:<\xc3\xa9l\xc3\xa8ve@\xc3\xa9cole.fr>\r\n",
  "Subject: hi\r\n\r\nbody\r\n..dot\r\n.\r\nMAIL FROM:<x@y>\r\n",
].map(latin);

function smtpRun(input: Uint8Array): void {
  const ib = new smtp.InputBuffer();
  let lines = 0;
  for (const c of chunks(input)) {
    ib.push(c);
    for (;;) {
      const r = ib.readLine(smtp.MAX_ENVELOPE_LINE);
      if (!r) break;
      assert(lines++ <= input.length + 1, "more lines than bytes");
      if (r.kind === "toolong") continue;
      assert(r.bytes.length <= smtp.MAX_ENVELOPE_LINE, "line longer than the limit returned");
      const line = smtp.decodeLine(r.bytes);
      if (line === null) continue;
      const cmd = smtp.parseCommandLine(line);
      switch (cmd.verb) {
        case "MAIL": smtp.parseMailArg(cmd.arg.replace(/^FROM:/i, "")); smtp.parseMailArg(cmd.arg); break;
        case "RCPT": smtp.parseRcptArg(cmd.arg.replace(/^TO:/i, "")); smtp.parseRcptArg(cmd.arg); break;
        case "BDAT": smtp.parseBdatArg(cmd.arg); break;
        case "HELO": case "EHLO": smtp.parseHeloArg(cmd.arg); break;
        case "AUTH": {
          const parts = cmd.arg.split(" ");
          const raw = smtp.decodeBase64(parts[1] ?? "");
          if (raw) smtp.parsePlainResponse(raw);
          break;
        }
        default:
          smtp.decodeXtext(cmd.arg);
          smtp.parseParams(cmd.arg);
          smtp.parsePath(cmd.arg, true, true);
          smtp.parseMailbox(cmd.arg);
          smtp.isValidDomain(cmd.arg);
      }
      smtp.formatReply(smtp.reply(250, "2.0.0", line));
    }
    assert(ib.length <= input.length, "buffer holds more than was pushed");
  }
  // DATA: one message through the decoder, then the same bytes one chunk at a time must agree.
  const maxSize = 4096;
  const whole = new smtp.DataDecoder(maxSize);
  const r1 = whole.push(input);
  const split = new smtp.DataDecoder(maxSize);
  let consumed = 0;
  let done = false;
  for (const c of chunks(input)) {
    if (done) break;
    const r = split.push(c);
    consumed += r.consumed;
    done = r.done;
  }
  assert(r1.done === done, "DATA end detection depends on chunking");
  if (done) assert(r1.consumed === consumed, "DATA consumed count depends on chunking");
  if (r1.done) {
    const m1 = whole.message();
    const m2 = split.message();
    assert(whole.oversize === split.oversize, "oversize flag depends on chunking");
    assert(Buffer.from(m1).equals(Buffer.from(m2)), "DATA decoding depends on chunking");
    assert(whole.oversize || m1.length <= maxSize, "kept more than maxSize");
  }
  const cc = new smtp.ChunkCollector(1024);
  for (const c of chunks(input)) cc.push(c);
  const m = cc.message();
  assert(cc.oversize ? m.length === 0 : m.length === input.length, "BDAT collector size");
}

const smtpArb = fc
  .array(
    fc.oneof(
      fc.constantFrom("MAIL FROM:", "RCPT TO:", "EHLO ", "BDAT ", "AUTH PLAIN ", "DATA", "STARTTLS"),
      fc.stringMatching(/^<[^>\r\n]{0,40}>( [A-Z]+=[^ \r\n]{0,10})*$/),
      fc.string({ maxLength: 30 }),
      fc.constantFrom("\r\n", "\n", " ", "<>", "@", ":", ","),
    ),
    { maxLength: 30 },
  )
  .map((a) => b(a.join("")));

// ---------------------------------------------------------------- SMTP DATA/BDAT memory

/**
 * Issue 13 item 1: whatever the line shape, the DATA decoder and the BDAT
 * collector hold at most about twice what they keep (plus the first
 * allocation and the room kept in front for trace fields), in one array, and
 * nothing once the message is refused (over the size limit or a line over the
 * cap). The input is a line pattern, repeated to ~32 KB so the buffer grows
 * several times.
 */
const SMTP_DATA_SEEDS = ["a\n", ".a\r\n", "a\r\n", "..\r\n.\r", "x", "line one\r\n\n.\n\r\r\n"].map(latin);
const DATA_MIN_CHUNK = 4096 + HEADROOM;

function smtpDataRun(input: Uint8Array): void {
  if (input.length === 0) return;
  const reps = Math.min(32_768, Math.ceil(32_768 / input.length));
  const wire = new Uint8Array(input.length * reps);
  wire.set(input, 0);
  for (let filled = input.length; filled < wire.length; filled *= 2) wire.copyWithin(filled, 0, Math.min(filled, wire.length - filled));
  // A limit inside the range, so some runs cross it; a line cap that long patterns without LF cross.
  const maxSize = 24_000;
  const maxLine = 8_000;
  const check = (what: string, refused: boolean, kept: number, held: number, arrays: number) => {
    if (refused) assert(held === 0, `${what}: holds ${held} bytes after refusing the message`);
    else {
      assert(held <= 2 * kept + DATA_MIN_CHUNK, `${what}: holds ${held} bytes for ${kept} kept`);
      assert(arrays <= 1, `${what}: holds ${arrays} arrays`);
    }
  };
  const d = new smtp.DataDecoder(maxSize, maxLine);
  let pos = 0;
  for (const c of chunks(wire)) {
    const r = d.push(c);
    pos += r.consumed;
    check("DATA", d.refused, d.size, d.retainedBytes, d.retainedChunks);
    if (r.done) break;
  }
  const m = d.message();
  assert(d.refused ? m.length === 0 : m.length === d.size, "DATA message length");
  const cc = new smtp.ChunkCollector(maxSize, maxLine);
  for (const c of chunks(wire)) {
    cc.push(c);
    check("BDAT", cc.refused, cc.size, cc.retainedBytes, cc.retainedChunks);
  }
  const mb = cc.message();
  assert(cc.refused ? mb.length === 0 : Buffer.from(mb).equals(Buffer.from(wire)), "BDAT keeps the bytes as sent");
}

const smtpDataArb = fc
  .array(fc.oneof(fc.constantFrom("a\n", ".a\r\n", "a\r\n", "..", ".", "\r", "\n", "\r\n", "x"), fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 20 })
  .map((a) => b(a.join("")));

// ---------------------------------------------------------------- IMAP

const IMAP_SEEDS = [
  "a1 LOGIN alice \"pass word\"\r\na2 SELECT INBOX\r\na3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>)\r\n",
  "a APPEND INBOX (\\Seen) \"27-Nov-2026 10:00:00 +0000\" {11}\r\nhello world\r\nb NOOP\r\n",
  "a APPEND INBOX {5+}\r\nhello CATENATE (URL \"/INBOX;UID=1\" TEXT {3+}\r\nabc)\r\n",
  "t SEARCH CHARSET UTF-8 OR (FROM \"x\" SUBJECT {4+}\r\n\xc3\xa9t\xc3) NOT DELETED UID 1:5,7,9:*\r\n",
  "x STORE 1:3 +FLAGS.SILENT (\\Deleted $Junk)\r\ny EXPUNGE\r\nz UID EXPUNGE 1:*\r\nw IDLE\r\nDONE\r\n",
  "a AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nb ID (\"name\" \"x\" \"version\" NIL)\r\nc ENABLE QRESYNC\r\nd SELECT INBOX (QRESYNC (1 2 1:5))\r\n",
  "a LIST \"\" \"*\" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN))\r\nb STATUS \"&AOk-t&AOk-\" (MESSAGES)\r\nc SORT (REVERSE DATE) UTF-8 ALL\r\n",
  "a APPEND INBOX ~{3}\r\n\x00\x01\x02\r\nb COMPRESS DEFLATE\r\nc NOTIFY SET (SELECTED (MessageNew))\r\n",
].map(latin);

function imapRun(input: Uint8Array): void {
  const p = new CommandParser({ maxLine: 8192, maxAppendLiteral: 1 << 20, maxAppendTotal: 4 << 20, maxOtherLiteral: 8192, maxOtherTotal: 65536 });
  let events = 0;
  let lineMode = false;
  for (const c of chunks(input)) {
    p.push(c);
    for (;;) {
      const ev = p.next();
      if (!ev) break;
      assert(++events <= input.length + 2, "more events than bytes");
      if (ev.type === "command") {
        assert(typeof ev.cmd.tag === "string" && typeof ev.cmd.name === "string", "command shape");
        const n = ev.cmd.name;
        // The session switches to line mode for IDLE and AUTHENTICATE.
        if (n === "IDLE" || n === "AUTHENTICATE") lineMode = true;
      } else if (ev.type === "line") {
        lineMode = false;
      } else if (ev.type === "fatal") {
        break;
      }
      p.lineMode = lineMode;
    }
    assert(p.buffered <= input.length, "parser buffers more than was pushed");
  }
}

const imapArb = fc
  .array(
    fc.oneof(
      fc.constantFrom("a ", "A1 UID ", "FETCH ", "APPEND ", "SEARCH ", "STORE ", "SELECT ", "(", ")", "[", "]", "<", ">", "\\Seen", "\"", "NIL", "*", "1:*"),
      fc.nat(100).map((n) => `{${n}}\r\n`),
      fc.nat(100).map((n) => `{${n}+}\r\n`),
      fc.string({ maxLength: 20 }),
      fc.constantFrom("\r\n", " ", "\n"),
    ),
    { maxLength: 40 },
  )
  .map((a) => latin(a.join("")));

// ---------------------------------------------------------------- POP3

const POP3_SEEDS = [
  "USER alice\r\nPASS secret word\r\nSTAT\r\nLIST\r\nUIDL 1\r\nRETR 1\r\nTOP 1 10\r\nDELE 1\r\nRSET\r\nQUIT\r\n",
  "CAPA\r\nAUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\nSTLS\r\nAPOP alice c4c9334bac560ecc979e58001b3e22fb\r\nNOOP\n",
  "LIST 4294967296\r\nRETR -1\r\nTOP 1\r\nUTF8\r\nLANG *\r\n",
].map(latin);

function pop3Run(input: Uint8Array): void {
  const r = new LineReader();
  for (const c of chunks(input)) {
    const evs = r.feed(c);
    for (const ev of evs) {
      if (ev.type !== "line") continue;
      const cmd = parseCommand(ev.line);
      if (cmd) {
        assert(cmd.name === cmd.name.toUpperCase(), "keyword upper-cased");
        for (const a of cmd.args) {
          const n = parseNumber(a);
          assert(n === null || (Number.isSafeInteger(n) && n >= 0), "number range");
        }
      }
      if (ev.line.startsWith("AUTH")) r.saslMode = !r.saslMode;
    }
    assert(r.pending <= Math.max(input.length, 8192 + 2), "reader buffers unbounded");
  }
}

// ---------------------------------------------------------------- MIME

const MIME_SEEDS = [
  "From: \"Alice A.\" <alice@example.org>\r\nTo: bob@example.com, \"Group\": a@b, c@d;\r\nSubject: =?utf-8?B?w6l0w6k=?= =?iso-8859-1?Q?caf=E9?=\r\nDate: Fri, 27 Nov 2026 10:00:00 +0100\r\nMessage-ID: <1@x>\r\nReferences: <0@x> <a@b>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n",
  "From: a@b\r\nSubject: multi\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9 &amp; <b>x</b></p>=\r\n\r\n--XX\r\nContent-Type: application/octet-stream; name*0*=utf-8''a%20b; name*1=.bin\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--XX--\r\nepilogue\r\n",
  "Subject: fwd\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@x\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nplain\r\n--a\r\nContent-Type: text/html\r\n\r\n<i>h</i>\r\n--a--\r\n",
  "From: <@route.example:user@example.org>\nTo: undisclosed-recipients:;\nSubject: bare LF\n\nbody with bare LF\n",
  "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n--a--\r\n",
  "Content-Type: text/plain; charset=\"x-unknown\"\r\nContent-Transfer-Encoding: base64\r\nSubject: =?utf-8?q?broken=ZZ?= =?utf-8?b?####?=\r\nDate: not a date\r\nFrom: @@@, <>, \"unterminated\r\n\r\n!!!not base64!!!\r\n",
].map(latin);

function mimeRun(input: Uint8Array): void {
  const a = analyzeMessage(input);
  assert(typeof a.subject === "string" && typeof a.preview === "string", "analysis shape");
  const check = (p: import("../../../storage/api.ts").MimePart, depth: number): void => {
    assert(depth < 200, "MIME tree too deep");
    assert(0 <= p.headerStart && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= input.length, `part offsets out of range ${p.headerStart}/${p.bodyStart}/${p.bodyEnd}/${input.length}`);
    for (const c of p.parts ?? []) check(c, depth + 1);
    if (p.message) check(p.message.root, depth + 1);
  };
  check(a.root, 0);
  const parsed = parseMime(input);
  partText(input, parsed.root);
  const s = new TextDecoder("latin1").decode(input.subarray(0, 4096));
  parseAddressList(s);
  parseMessageIds(s);
  decodeWords(s);
  parseMailDate(s);
  parseParams(s);
}

// ---------------------------------------------------------------- header readings

/*
 * Property: after the MX/submission canonicalisation (mail/line-endings.ts),
 * every reader of a header block agrees on its From fields, in number and in value:
 * the store's parser (index, IMAP ENVELOPE, webmail), the From check the MX and the
 * send path run, and mailauth (the SPF/DKIM/DMARC input, read by its own message
 * parser through dkimVerify). A disagreement is how a second or hidden From fools
 * DMARC or the sender check (issue 13 items 6 and 7).
 */
const HEADER_SEEDS = [
  "X-A: a\rFrom: PayPal <service@paypal.test>\r\nFrom: me@attacker.test\r\nSubject: x\r\n\r\nbody\r\n",
  "X-Note: hi\rFrom: The CEO <ceo@example.test>\r\nFrom: Alice <alice@example.test>\r\n\r\nbody",
  "From: service@paypal.test\r\n<me@attacker.test>\r\nSubject: x\r\n\r\n",
  "\tFrom: me@attacker.test\r\nFrom: PayPal <service@paypal.test>\n\n",
  "From someone@x Mon Dec  7 03:00:00 2026\nFrom: a@b\n\tcontinued\r\rFrom\t: c@d\n\r\nbody",
  "From\r\n : a@b\r\nFrom: \0x@y\r\n\r\r\n",
].map(latin);

/** Letters only, so a value compares equal whichever charset the store picked for its 8-bit bytes. */
const asciiSkeleton = (v: string) => v.replace(/[^\x00-\x7f]/g, "");
const trimWsp = (v: string) => v.replace(/^[ \t]+|[ \t]+$/g, "");
const noDns = (): Promise<never> => Promise.reject(Object.assign(new Error("no DNS in the fuzz target"), { code: "ENOTFOUND" }));

async function headersRun(input: Uint8Array): Promise<void> {
  const canon = canonicalLineEnds(input);
  assert(firstBareLineEnd(canon) === -1, "bare CR or LF left after canonicalLineEnds");
  assert(canonicalLineEnds(canon) === canon, "canonicalLineEnds not idempotent");
  const m = canonicalMessage(input);
  assert(firstBareLineEnd(m) === -1, "bare CR or LF left after canonicalMessage");
  assert(canonicalMessage(m) === m, "canonicalMessage not idempotent");

  // 1. the store's index / IMAP ENVELOPE / webmail
  const store = parseMime(m).headers.filter((h) => h.key === "from").map((h) => h.value);
  // 2. the From check of MX ingest (fromFields) and of the send path (fromAddresses)
  const check = fromFields(m);
  const submit = fromAddresses(m);
  // 3. mailauth's own reading (its message parser and header splitter)
  const res = await dkimVerify(Buffer.from(m), { resolver: noDns });
  const parsed = (res as unknown as { headers?: { parsed: { key: string | null; line: Buffer }[] } }).headers?.parsed ?? [];
  const auth = parsed
    .filter((h) => h.key === "from")
    .map((h) => {
      const line = h.line.toString("latin1");
      return trimWsp(line.slice(line.indexOf(":") + 1).replace(/\r\n/g, ""));
    });

  const show = (l: string[]) => JSON.stringify(l.map(asciiSkeleton));
  assert(show(check) === show(store), `From check ${show(check)} != store ${show(store)}`);
  assert(submit.fields === store.length, `send-path From count ${submit.fields} != store ${store.length}`);
  assert(res.fromFields === store.length, `mailauth counts ${res.fromFields} From fields, the store ${store.length}`);
  assert(show(auth) === show(store), `mailauth From ${show(auth)} != store ${show(store)}`);
}

/** Random header blocks: field names, From values, and every kind of line end in between. */
const headersArb = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom("From:", "from :", "FROM\t:", "From", "X-A:", "Subject:", "To:", "From ", ":", "X-\x80:") },
      { weight: 3, arbitrary: fc.constantFrom(" PayPal <service@paypal.test>", " me@attacker.test", "<me@attacker.test>", " a@b", " (c) \"q\" <x@y>", " G: a@b, c@d;", " \u00e9@\u00e8.test") },
      { weight: 4, arbitrary: fc.constantFrom("\r", "\n", "\r\n", "\r\r\n", "\n\r", " ", "\t", "\0") },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    { maxLength: 40 },
  )
  .map((a) => latin(a.join("")));

// ---------------------------------------------------------------- WBXML

function wb(...bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes);
}
const WBXML_SEEDS = [
  // FolderSync with SyncKey 0 (as xml2wbxml -a -n -v 1.3 writes it)
  wb(0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01),
  // Sync with a Collection and an opaque blob
  wb(0x03, 0x01, 0x6a, 0x00, 0x45, 0x5c, 0x4f, 0x4b, 0x03, 0x31, 0x00, 0x01, 0x52, 0x03, 0x31, 0x00, 0x01, 0x1e, 0x13, 0x55, 0x03, 0x35, 0x00, 0x01, 0xc3, 0x03, 0x01, 0x02, 0x03, 0x01, 0x01, 0x01, 0x01),
  // string table reference
  wb(0x03, 0x00, 0x00, 0x6a, 0x04, 0x61, 0x62, 0x63, 0x00, 0x45, 0x83, 0x00, 0x01),
];

function wbxmlRun(input: Uint8Array): void {
  let doc;
  try {
    doc = wbxmlDecode(input, { maxDepth: 64, maxElements: 50_000 });
  } catch (e) {
    if (e instanceof WbxmlError) return; // documented: the handler answers 400 / Status
    throw e;
  }
  // Whatever decodes must re-encode and decode to the same tree.
  const again = wbxmlDecode(wbxmlEncode(doc.root));
  assert(JSON.stringify(again.root, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)) === JSON.stringify(doc.root, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)), "WBXML round trip changed the tree");
}

const wbxmlArb = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x01, 0x03, 0x04, 0x40, 0x45, 0x80, 0x83, 0xc3, 0xff)), { maxLength: 200 })
  .map((a) => Uint8Array.from([0x03, 0x01, 0x6a, 0x00, ...a]));

export const PARSER_TARGETS: FuzzTarget[] = [
  { name: "smtp", seeds: SMTP_SEEDS, run: smtpRun, arbitrary: smtpArb, maxLen: 16384 },
  { name: "smtp-data", seeds: SMTP_DATA_SEEDS, run: smtpDataRun, arbitrary: smtpDataArb, maxLen: 2048 },
  { name: "imap", seeds: IMAP_SEEDS, run: imapRun, arbitrary: imapArb, maxLen: 32768 },
  { name: "pop3", seeds: POP3_SEEDS, run: pop3Run, maxLen: 16384 },
  { name: "mime", seeds: MIME_SEEDS, run: mimeRun, maxLen: 65536 },
  { name: "wbxml", seeds: WBXML_SEEDS, run: wbxmlRun, arbitrary: wbxmlArb, maxLen: 8192 },
  { name: "headers", seeds: HEADER_SEEDS, run: headersRun, arbitrary: headersArb, maxLen: 4096 },
  // mail/: one check per exported function, in three targets (./mail-targets.ts)
  ...MAIL_TARGETS,
  DAV_XML_TARGET,
  ...GROUPWARE_TARGETS,
  ...EAS_GROUPWARE_TARGETS,
  // the Sieve interpreter over mutated messages (./sieve-run-target.ts)
  SIEVE_RUN_TARGET,
  // ManageSieve: the command reader and the whole session over an in-memory store (./managesieve-target.ts)
  MANAGESIEVE_TARGET,
  // the Sieve compiler (lexer, parser, validator) and the matcher (./sieve-targets.ts)
  ...SIEVE_TARGETS,
  // EWS: SOAP reader, envelope, shapes/paths/changes/restrictions, ConvertId forms; autodiscover's reader (./ews-target.ts)
  EWS_SOAP_TARGET,
  AUTODISCOVER_XML_TARGET,
  // MAPI/HTTP NSPI: the request body parsers and address-book value codecs (./mapi-nspi-target.ts)
  MAPI_NSPI_TARGET,
  // MAPI/HTTP EMSMDB: Execute bodies, the ROP buffer (XorMagic, LZ77) and every ROP request parser (./mapi-rop-target.ts)
  MAPI_ROP_TARGET,
];
