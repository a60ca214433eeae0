/**
 * Fuzz targets for the shared mail library (mail/): one check per exported
 * function, keyed by the export's name (tests/mail/exports.test.ts fails when
 * an export of mail/index.ts has none). Each check feeds one input through
 * the function and asserts what must hold for any input: it never throws
 * (except the documented AddressError), its output is bounded by its input,
 * and an encoder's output decodes back to what went in. The checks are run
 * in three fuzz targets (decode, encode, build) so the CI budget stays small.
 */
import fc from "fast-check";
import { Buffer } from "node:buffer";
import * as mail from "../../../mail/index.ts";
import type { FuzzTarget } from "./engine.ts";

const utf8 = new TextDecoder();
const latin1 = new TextDecoder("latin1");
const enc = new TextEncoder();

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}

const eqBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
/** Text of the input as a client could send it: UTF-8 (U+FFFD for bad bytes). */
const text = (b: Uint8Array) => utf8.decode(b);
/** One header line's worth: what a header value can hold after unfolding. */
const oneLine = (s: string) => s.replace(/\r\n|\r|\n/g, " ");

/** Tree of a parsed message within the message's bytes, children in order. */
function checkTree(p: mail.MimePart, start: number, end: number, depth = 0): void {
  assert(depth <= mail.MAX_DEPTH + 2, "MIME tree deeper than MAX_DEPTH");
  assert(start <= p.headerStart && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= end, "part offsets out of order or out of range");
  let pos = p.bodyStart;
  for (const c of p.parts ?? []) {
    checkTree(c, pos, p.bodyEnd, depth + 1);
    pos = c.bodyEnd;
  }
  if (p.message) checkTree(p.message.root, p.bodyStart, p.bodyEnd, depth + 1);
}

type Check = (input: Uint8Array) => void;

/** Every exported function of mail/index.ts and its check. */
export const MAIL_CHECKS: Record<string, { group: "decode" | "encode" | "build"; run: Check }> = {
  analyzeMessage: {
    group: "decode",
    run: (b) => {
      const a = mail.analyzeMessage(b);
      checkTree(a.root, 0, b.length);
      assert(a.preview.length <= 400, "preview unbounded");
    },
  },
  parseMime: { group: "decode", run: (b) => checkTree(mail.parseMime(b).root, 0, b.length) },
  splitMultipart: {
    group: "decode",
    run: (b) => {
      const boundary = latin1.decode(b.subarray(0, Math.min(8, b.length))).replace(/[\r\n]/g, "") || "x";
      let last = 0;
      for (const [s, e] of mail.splitMultipart(b, 0, b.length, boundary, 100)) {
        assert(last <= s && s <= e && e <= b.length, "multipart ranges out of order");
        last = e;
      }
    },
  },
  parseAddressList: {
    group: "decode",
    run: (b) => {
      const s = text(b);
      const list = mail.parseAddressList(s);
      assert(list.length <= s.length + 1, "more addresses than characters");
      const f = mail.firstAddress(list);
      assert(f === null || (f.mailbox !== null && f.host !== null), "firstAddress returned a group marker");
      assert(mail.addressString(f).length <= s.length + 2 * mail.MISSING_MAILBOX.length, "addressString longer than the input and its placeholders");
    },
  },
  firstAddress: { group: "decode", run: (b) => void mail.firstAddress(mail.parseAddressList(latin1.decode(b))) },
  addressString: { group: "decode", run: (b) => void mail.addressString(mail.firstAddress(mail.parseAddressList(latin1.decode(b)))) },
  parseMessageIds: {
    group: "decode",
    run: (b) => {
      const s = text(b);
      for (const id of mail.parseMessageIds(s)) assert(id.startsWith("<") && id.endsWith(">") && id.length <= s.length + 2, "message id shape");
    },
  },
  parseAddressInput: {
    group: "decode",
    run: (b) => {
      try {
        for (const m of mail.parseAddressInput(text(b))) assert(mail.isValidAddress(m.address), "parseAddressInput returned an invalid address");
      } catch (e) {
        if (!(e instanceof mail.AddressError)) throw e;
      }
    },
  },
  isValidAddress: { group: "decode", run: (b) => assert(typeof mail.isValidAddress(text(b)) === "boolean", "not a boolean") },
  AddressError: { group: "decode", run: (b) => assert(new mail.AddressError(text(b)).message.includes("not a valid"), "message") },
  formatAddress: {
    group: "encode",
    run: (b) => {
      // Round trip: a name written by formatAddress reads back the same (whitespace runs aside).
      const name = oneLine(text(b)).replace(/\s+/g, " ").trim();
      const written = mail.formatAddress({ name, address: "user@example.org" });
      const back = mail.parseAddressList(written);
      const real = back.filter((a) => a.host !== null);
      assert(real.length === 1 && real[0]!.mailbox === "user" && real[0]!.host === "example.org", `address lost in ${JSON.stringify(written)}`);
      const gotName = mail.decodeWords(real[0]!.name ?? "").replace(/\s+/g, " ").trim();
      assert(gotName === name, `name ${JSON.stringify(name)} came back as ${JSON.stringify(gotName)}`);
      void mail.formatAddress({ name, address: "user@example.org" }, { display: true });
    },
  },
  decodeWords: { group: "decode", run: (b) => assert(mail.decodeWords(latin1.decode(b)).length <= 2 * b.length + 16, "decodeWords output unbounded") },
  decodeHeaderText: { group: "decode", run: (b) => assert(mail.decodeHeaderText(latin1.decode(b)).length <= 2 * b.length + 16, "decodeHeaderText output unbounded") },
  parseHeaderBlock: {
    group: "decode",
    run: (b) => {
      const hb = mail.parseHeaderBlock(b, 0, b.length);
      assert(hb.fieldsStart <= hb.bodyStart && hb.bodyStart <= b.length, "header block offsets");
      for (const f of hb.fields) assert(f.key === f.name.toLowerCase(), "key is the lower-case name");
      const first = hb.fields[0]?.key ?? "subject";
      assert(mail.headerValues(hb.fields, first).length <= hb.fields.length, "headerValues");
      void mail.headerValue(hb.fields, first);
    },
  },
  headerValue: { group: "decode", run: (b) => void mail.headerValue(mail.parseHeaderBlock(b, 0, b.length).fields, "from") },
  headerValues: { group: "decode", run: (b) => void mail.headerValues(mail.parseHeaderBlock(b, 0, b.length).fields, "received") },
  parseParams: {
    group: "decode",
    run: (b) => {
      const p = mail.parseParams(latin1.decode(b));
      for (const v of Object.values(p.params)) assert(v.length <= b.length, "parameter value longer than the input");
    },
  },
  stripComments: { group: "decode", run: (b) => assert(mail.stripComments(latin1.decode(b)).length <= b.length, "stripComments grew the input") },
  headerEnd: {
    group: "decode",
    run: (b) => {
      const e = mail.headerEnd(b);
      assert(e === -1 || (e > 0 && e <= b.length && b[e - 1] === 10), "headerEnd not just past a line end");
    },
  },
  headerFieldSpans: {
    group: "decode",
    run: (b) => {
      const spans = mail.headerFieldSpans(b);
      let last = 0;
      for (const f of spans) {
        assert(last <= f.start && f.start < f.end && f.end <= b.length, "spans out of order");
        assert(f.colon === -1 || (f.colon >= f.start && f.colon < f.end && b[f.colon] === 58), "colon offset");
        last = f.end;
      }
      const he = mail.headerEnd(b);
      if (he > 0 && spans.length) assert(last <= he, "a field beyond the header end");
    },
  },
  eachHeaderField: {
    group: "decode",
    run: (b) => {
      const seen: mail.HeaderSpan[] = [];
      mail.eachHeaderField(b, 0, b.length, (start, end, colon) => void seen.push({ start, end, colon }));
      assert(JSON.stringify(seen) === JSON.stringify(mail.headerFieldSpans(b)), "eachHeaderField and headerFieldSpans disagree");
    },
  },
  bareLineEndInHeader: { group: "decode", run: (b) => assert(mail.bareLineEndInHeader(b) < b.length, "offset out of range") },
  canonicalLineEnds: {
    group: "decode",
    run: (b) => {
      const c = mail.canonicalLineEnds(b);
      assert(mail.firstBareLineEnd(c) === -1 && c.length <= 2 * b.length, "canonicalLineEnds left a bare line end");
    },
  },
  canonicalMessage: {
    group: "decode",
    run: (b) => {
      const c = mail.canonicalMessage(b);
      assert(eqBytes(mail.canonicalMessage(c), c), "canonicalMessage is not idempotent");
    },
  },
  firstBareLineEnd: { group: "decode", run: (b) => assert(mail.firstBareLineEnd(b) < b.length, "offset out of range") },
  fromFields: { group: "decode", run: (b) => assert(mail.fromFields(b).length <= b.length, "more From fields than bytes") },
  headerFieldsNamed: { group: "decode", run: (b) => assert(mail.headerFieldsNamed(b, ["to", "cc"]).every((f) => f.key === "to" || f.key === "cc"), "other fields returned") },
  baseSubject: { group: "decode", run: (b) => assert(mail.baseSubject(text(b)).length <= text(b).length, "baseSubject grew the subject") },
  prefixSubject: {
    group: "encode",
    run: (b) => {
      const s = text(b);
      for (const p of ["Re", "Fwd"] as const) {
        const once = mail.prefixSubject(p, s);
        assert(mail.prefixSubject(p, once) === once, "prefix stacked");
        assert(once.length <= s.length + 5, "prefixSubject output unbounded");
      }
    },
  },
  parseMailDate: {
    group: "decode",
    run: (b) => {
      const t = mail.parseMailDate(latin1.decode(b));
      assert(t === null || Number.isFinite(t), "parseMailDate returned a non-finite number");
    },
  },
  formatMailDate: {
    group: "encode",
    run: (b) => {
      // Round trip over RFC 5322's range (years 1900-9999), whole seconds.
      let n = 0;
      for (let i = 0; i < Math.min(6, b.length); i++) n = n * 256 + b[i]!;
      const lo = Date.UTC(1900, 0, 1);
      const hi = Date.UTC(9999, 11, 31);
      const t = lo + Math.floor((n / 2 ** 48) * ((hi - lo) / 1000)) * 1000;
      const s = mail.formatMailDate(t);
      assert(mail.parseMailDate(s) === t, `date ${t} formatted as ${s} parsed back differently`);
      void mail.formatMailDate(Number.NaN);
    },
  },
  partContent: { group: "decode", run: (b) => void mail.partContent(b, mail.parseMime(b).root, 65536) },
  partText: { group: "decode", run: (b) => void mail.partText(b, mail.parseMime(b).root) },
  htmlToText: {
    group: "decode",
    run: (b) => {
      const s = text(b);
      assert(mail.htmlToText(s).length <= s.length, "htmlToText grew the input");
      assert(mail.htmlToText(s, { readable: true }).length <= s.length, "readable htmlToText grew the input");
    },
  },
  decodeTransfer: {
    group: "decode",
    run: (b) => {
      for (const e of ["base64", "quoted-printable", "7bit", "x-unknown"]) assert(mail.decodeTransfer(b, e).length <= b.length, `decodeTransfer ${e} grew the input`);
      assert(mail.decodeTransfer(b, "Quoted-Printable", { crlf: true }).length <= 2 * b.length, "QP with CRLF more than doubled");
    },
  },
  decodeEntities: { group: "decode", run: (b) => assert(mail.decodeEntities(text(b)).length <= text(b).length, "decodeEntities grew the input") },
  decodedSizeEstimate: {
    group: "decode",
    run: (b) => {
      const n = b.length * 97;
      assert(mail.decodedSizeEstimate(n, "base64") <= n && mail.decodedSizeEstimate(n, "7bit") === n, "estimate out of range");
    },
  },
  extractText: {
    group: "decode",
    run: (b) => {
      const x = mail.extractText(b, mail.parseMime(b).root);
      assert(x.preview.length <= 400, "preview unbounded");
    },
  },
  makePreview: { group: "decode", run: (b) => assert(mail.makePreview(text(b)).length <= 201, "preview longer than its limit") },
  bytesToString: { group: "decode", run: (b) => assert(mail.bytesToString(b).length <= b.length, "more characters than bytes") },
  decodeCharset: {
    group: "decode",
    run: (b) => {
      for (const cs of ["utf-8", "iso-8859-1", "utf-7", "windows-1252", "x-bogus", latin1.decode(b.subarray(0, 12))]) assert(mail.decodeCharset(b, cs).length <= 2 * b.length + 2, `decodeCharset ${cs} unbounded`);
    },
  },
  decodeBase64: { group: "decode", run: (b) => assert(mail.decodeBase64(b).length <= Math.floor((b.length * 3) / 4) + 3, "base64 output larger than 3/4 of the input") },
  decodeQuotedPrintable: {
    group: "decode",
    run: (b) => {
      assert(mail.decodeQuotedPrintable(b).length <= b.length, "QP output larger than its input");
      assert(mail.decodeQuotedPrintable(b, true).length <= b.length, "Q output larger than its input");
    },
  },
  base64Lines: {
    group: "encode",
    run: (b) => {
      const s = mail.base64Lines(b);
      assert(s.split("\r\n").every((l) => l.length <= 76), "base64 line over 76 characters");
      assert(eqBytes(mail.decodeBase64(enc.encode(s)), b), "base64 did not round-trip");
    },
  },
  encodeQuotedPrintable: {
    group: "encode",
    run: (b) => {
      const s = mail.encodeQuotedPrintable(b);
      assert(s.split("\r\n").every((l) => l.length <= 76), "QP line over 76 characters");
      assert(!/[ \t]\r\n|[ \t]$/.test(s), "QP line ends in whitespace");
      assert(eqBytes(mail.decodeQuotedPrintable(enc.encode(s)), b), "quoted-printable did not round-trip");
    },
  },
  encodeWords: {
    group: "encode",
    run: (b) => {
      const s = text(b);
      const w = mail.encodeWords(s);
      assert(!/[\r\n]/.test(w), "encoded text holds a line break");
      for (const m of w.matchAll(/=\?[^?]*\?[bB]\?[^?]*\?=/g)) assert(m[0].length <= 75, "encoded word over 75 characters");
      assert(mail.decodeWords(w) === oneLine(s), "encoded words did not round-trip");
    },
  },
  quoteParamValue: {
    group: "encode",
    run: (b) => {
      const s = text(b);
      const q = mail.quoteParamValue(s);
      const back = mail.parseParams(`application/octet-stream; name=${q}`).params.name ?? "";
      assert(mail.decodeWords(back) === s.replace(/[\r\n]+/g, " "), `parameter ${JSON.stringify(s)} came back as ${JSON.stringify(back)}`);
    },
  },
  mimeParam: {
    group: "encode",
    run: (b) => {
      const s = text(b);
      const p = mail.mimeParam("filename", s);
      assert(!/[\r\n]/.test(p), "parameter holds a line break");
      if (p.startsWith("filename*")) assert(p.split("; ").every((x) => x.length <= 90), "parameter section too long");
      else assert(p.length <= 64 + 12, "a long value was not cut into sections");
      const back = mail.parseParams(`attachment; ${p}`).params.filename ?? "";
      assert(back === s.replace(/[\r\n]+/g, " "), `parameter ${JSON.stringify(s)} came back as ${JSON.stringify(back)}`);
    },
  },
  foldHeader: {
    group: "encode",
    run: (b) => {
      const v = oneLine(text(b));
      const f = mail.foldHeader("X-Test", v);
      assert(f.endsWith("\r\n"), "field not ended by CRLF");
      const lines = f.slice(0, -2).split("\r\n");
      for (const l of lines.slice(1)) assert(/^[ \t]/.test(l) && /[^ \t]/.test(l), "a continuation line is not folding whitespace plus text");
      const unfolded = lines.join("");
      assert(unfolded === (v === "" ? "X-Test:" : /^[ \t]/.test(v) ? `X-Test:${v}` : `X-Test: ${v}`), "folding changed the value");
    },
  },
  escapeHtml: {
    group: "encode",
    run: (b) => {
      const e = mail.escapeHtml(text(b));
      assert(!/[<>"']/.test(e) && !/&(?!amp;|lt;|gt;|quot;|#39;)/.test(e), "unescaped markup");
    },
  },
  textToHtml: { group: "encode", run: (b) => assert(!/[<>](?!br>)/.test(mail.textToHtml(text(b)).replace(/<br>/g, "")), "unescaped markup") },
  newMessageId: {
    group: "encode",
    run: (b) => {
      const id = mail.newMessageId(text(b));
      assert(/^<[0-9a-z]+\.[0-9a-f]{18}@[A-Za-z0-9.-]+>$/.test(id), `bad Message-ID ${id}`);
      assert(mail.parseMessageIds(id).length === 1 && mail.parseMessageIds(id)[0] === id, "Message-ID does not parse back");
    },
  },
  composeMessage: { group: "build", run: (b) => composeRoundTrip(b) },
  readMessage: {
    group: "decode",
    run: (b) => {
      const m = mail.readMessage(b);
      // each body form is bounded by the input: conversions add a little markup per part, never per byte
      const parts = Math.max(1, (latin1.decode(b).match(/\n/g) ?? []).length);
      for (const v of [m.text, m.html]) assert(v === null || v.length <= 8 * b.length + 64 * parts + 64, "reading form unbounded");
      for (const p of [...m.from, ...m.to, ...m.cc]) assert(p.address === p.address.toLowerCase(), "address not lower-case");
    },
  },
  readBody: { group: "decode", run: (b) => void mail.readBody(b, mail.parseMime(b).root) },
  mailboxesOf: { group: "decode", run: (b) => assert(mail.mailboxesOf(mail.parseHeaderBlock(b, 0, b.length).fields, "to").length <= b.length, "more mailboxes than bytes") },
  decodeFlowed: {
    group: "decode",
    run: (b) => {
      const s = text(b);
      const d = mail.decodeFlowed(s);
      assert(d.length <= s.length * 2 + 1, "decodeFlowed output unbounded");
      // text without a trailing space on any line and without stuffing is left as it is (modulo line ends)
      if (!/[ ](\r\n|\n|\r|$)/.test(s) && !/(^|\n|\r) /.test(s) && !/(^|\n|\r)>/.test(s)) assert(d === s.replace(/\r\n|\r/g, "\n"), "fixed text changed");
    },
  },
  renderMessage: {
    group: "build",
    run: (b) => {
      const raw = mail.renderMessage([["Subject", mail.encodeWords(text(b))]], { multipart: "mixed", parts: [{ type: "application/octet-stream", content: b }, { type: "message/rfc822", content: b }] });
      const { root } = mail.parseMime(raw);
      assert(root.parts?.length === 2, "multipart lost a part");
      assert(eqBytes(mail.partContent(raw, root.parts![0]!), b), "base64 leaf did not round-trip");
    },
  },
  formatAddressList: {
    group: "encode",
    run: (b) => {
      const name = oneLine(text(b)).replace(/\s+/g, " ").trim();
      const back = mail.parseAddressList(mail.formatAddressList([{ name, address: "a@x.org" }, { name: "", address: "b@y.org" }])).filter((a) => a.host !== null);
      assert(back.length === 2 && back[1]!.mailbox === "b", "address list did not round-trip");
    },
  },
  crlfSize: {
    group: "decode",
    run: (b) => {
      const n = mail.crlfSize(b);
      assert(n >= b.length && n <= 2 * b.length + 2, "crlfSize out of range");
      // Without CR the CRLF form is the canonical one plus a final CRLF where the last line has none.
      if (!b.includes(13)) assert(n === mail.canonicalLineEnds(b).length + (b.length && b[b.length - 1] !== 10 ? 2 : 0), "crlfSize disagrees with the canonical form");
    },
  },
};

/** A message built from input-derived fields parses back to those fields. */
function composeRoundTrip(b: Uint8Array): void {
  const s = text(b);
  // (sliced by code points: a cut surrogate pair is not text, and would come back as U+FFFD)
  const cp = (x: string, n: number) => Array.from(x).slice(0, n).join("");
  const half = cp(s, Array.from(s).length >> 1);
  const att = b.subarray(b.length >> 1);
  const input: mail.ComposeInput = {
    from: { name: cp(oneLine(half), 40), address: "me@example.org" },
    to: [{ name: "", address: "you@example.com" }],
    bcc: [{ name: "", address: "hidden@example.net" }],
    subject: cp(oneLine(s), 200),
    text: s,
    html: b.length % 2 ? `<p>${mail.escapeHtml(half)}</p>` : null,
    attachments: att.length ? [{ filename: cp(oneLine(half), 30) || "f.bin", contentType: "application/octet-stream", content: att }] : [],
    references: ["<a@b>"],
  };
  const raw = mail.composeMessage(input);
  const a = mail.analyzeMessage(raw);
  assert(mail.firstBareLineEnd(raw) === -1, "built message has a bare line end");
  // (the index shows NUL as U+FFFD: SQL text cannot hold it)
  assert(a.subject === oneLine(input.subject).replace(/[ \t]+/g, " ").trim().replace(/\u0000/g, "\uFFFD"), `subject ${JSON.stringify(input.subject)} came back as ${JSON.stringify(a.subject)}`);
  assert(a.fromAddr === "me@example.org" && a.toAddr === "you@example.com", "addresses lost");
  assert(!latin1.decode(raw).includes("hidden@example.net"), "Bcc in a sent message");
  // the text/plain leaf decodes to the text with CRLF line ends
  let plain: mail.MimePart | null = null;
  let file: mail.MimePart | null = null;
  const walk = (p: mail.MimePart) => {
    if (p.parts) p.parts.forEach(walk);
    else if (p.disposition?.type === "attachment") file ??= p;
    else if (p.type === "text" && p.subtype === "plain") plain ??= p;
  };
  walk(a.root);
  assert(plain !== null, "no text/plain part");
  assert(mail.partText(raw, plain!) === s.replace(/\r\n|\r|\n/g, "\r\n"), "text did not round-trip");
  if (att.length) {
    assert(file !== null, "attachment lost");
    assert(eqBytes(mail.partContent(raw, file!), att), "attachment bytes did not round-trip");
  }
}

function groupRun(group: "decode" | "encode" | "build"): Check {
  const checks = Object.entries(MAIL_CHECKS).filter(([, c]) => c.group === group);
  return (input) => {
    for (const [name, c] of checks) {
      try {
        c.run(input);
      } catch (e) {
        throw new Error(`mail.${name}: ${(e as Error).message}`);
      }
    }
  };
}

const SEEDS = [
  "From: =?utf-8?B?w6l0w6k=?= <a@b.example>, \"Q, R\" <q@r>\r\nSubject: =?iso-8859-1?Q?caf=E9?= re: [x] Fwd: y (fwd)\r\nDate: Fri, 27 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=\"utf-8\"; name*0*=utf-8''a%20b; name*1=.txt\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nsoft  \r\n=ZZ=\r\n",
  "<html><head><title>t</title><style>p{}</style></head><body><p>a &amp; b&#x263A;</p><ul><li>one<li>two</ul><script>x</script><!-- c --></body>",
  "SGVsbG8gV29ybGQ=\r\nAAEC=AwQ=\r\n-_==\r\n",
  "Zo\u00eb \"Q.\" <@route:user@[127.0.0.1]>; group: a@b, c;, \u00e9l\u00e8ve@\u00e9cole.fr",
  "\r\n\r\nbody only\rbare cr\nbare lf\r\n.\r\n",
  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n--b--\r\n",
].map((s) => enc.encode(s));

const mailArb = fc
  .array(fc.oneof(fc.constantFrom("=?utf-8?b?", "=?utf-8?q?", "?=", "=", "=\r\n", "=C3=A9", "\r\n", "\n", "\r", " ", "\t", "<", ">", "@", ",", ";", "\"", "\\", "(", ")", "<br>", "<li>", "&amp;", "&#", "é", "😀"), fc.string({ maxLength: 16 })), { maxLength: 40 })
  .map((a) => enc.encode(a.join("")));

export const MAIL_TARGETS: FuzzTarget[] = [
  { name: "mail-decode", seeds: SEEDS, run: groupRun("decode"), arbitrary: mailArb, maxLen: 16384 },
  { name: "mail-encode", seeds: SEEDS, run: groupRun("encode"), arbitrary: mailArb, maxLen: 4096 },
  { name: "mail-build", seeds: SEEDS, run: groupRun("build"), arbitrary: mailArb, maxLen: 8192 },
];
