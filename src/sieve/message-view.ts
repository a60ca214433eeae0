/**
 * The message as a Sieve run sees it: its header fields (with the edits of
 * RFC 5293 editheader applied, so later tests see them, §5), their decoded
 * values for `header`/`address`/`date`, and the bytes of the edited message
 * for the actions that record it (§7: an action acts on the message as it
 * was when the action ran).
 *
 * Header fields are read with the project's one header parser
 * (mail/headers.ts): the field spans of the original header block, each span's
 * value through parseHeaderBlock. The body is never copied: an edited
 * message is the new header fields followed by the original bytes from the
 * end of the last original field (the empty line and the body).
 */
import { Buffer } from "node:buffer";
import { decodeWords, eachHeaderField, parseHeaderBlock } from "../../mail/headers.ts";
import { encodeWords, foldHeader } from "../../mail/encode.ts";
import { parseAddressList } from "../../mail/address.ts";
import type { Address } from "../../mail/types.ts";

export interface ViewField {
  /** Lower-case name. */
  key: string;
  name: string;
  /** Unfolded value as written (encoded words kept). */
  raw: string;
  /** The field's bytes (its lines with their line ends). */
  bytes: Uint8Array;
  /** decodeWords(raw) trimmed, computed on first use. */
  decoded?: string;
  /** parseAddressList(raw), computed on first use (address tests over 50 rules read it once). */
  addresses?: Address[];
}

const utf8 = new TextEncoder();

export class MessageView {
  readonly original: Uint8Array;
  private fieldsCache: ViewField[] | null = null;
  /** Offset of the first byte after the original fields (the empty line, then the body). */
  private restStart = 0;
  /** Bumped on every edit; bytes() caches per version. */
  private version = 0;
  private bytesCache: { version: number; bytes: Uint8Array } | null = null;
  private byName: { version: number; map: Map<string, ViewField[]> } | null = null;

  constructor(message: Uint8Array) {
    this.original = message;
  }

  /** True once an edit changed the header. */
  get edited(): boolean {
    return this.version > 0;
  }

  fields(): ViewField[] {
    if (this.fieldsCache) return this.fieldsCache;
    const buf = this.original;
    const out: ViewField[] = [];
    let last = 0;
    // The header block as the store reads it: parseHeaderBlock says where the fields start
    // (an mbox "From " line before them is noise) and eachHeaderField gives each field's bytes.
    const block = parseHeaderBlock(buf, 0, buf.length, { only: [] });
    const from = block.fieldsStart;
    eachHeaderField(buf, from, block.bodyStart, (start, end, colon) => {
      last = end;
      if (colon < 0) return; // cannot happen inside the block parseHeaderBlock delimits; no field to show
      const one = parseHeaderBlock(buf, start, end).fields[0];
      if (!one) return;
      out.push({ key: one.key, name: one.name, raw: one.value, bytes: buf.subarray(start, end) });
    });
    this.restStart = Math.max(last, from);
    this.fieldsCache = out;
    return out;
  }

  /** Fields named `key` (lower-case) in order, top to bottom. */
  named(key: string): ViewField[] {
    const k = key.toLowerCase();
    // an index by name, rebuilt after each edit: 10,000 tests over 5,000 fields stay linear
    if (!this.byName || this.byName.version !== this.version) {
      const map = new Map<string, ViewField[]>();
      for (const f of this.fields()) {
        const list = map.get(f.key);
        if (list) list.push(f);
        else map.set(f.key, [f]);
      }
      this.byName = { version: this.version, map };
    }
    return this.byName.map.get(k) ?? [];
  }

  /**
   * RFC 5228 §5.7 / RFC 5293 §5: a field's value for comparison: unfolded,
   * RFC 2047 words decoded, leading and trailing whitespace removed. Inner
   * whitespace is kept as written (Pigeonhole does the same).
   */
  static decoded(f: ViewField): string {
    if (f.decoded === undefined) f.decoded = decodeWords(f.raw).replace(/\r\n|\r|\n/g, "").trim();
    return f.decoded;
  }

  /** The field's addresses (RFC 5322 §3.4), parsed once. */
  static addresses(f: ViewField): Address[] {
    f.addresses ??= parseAddressList(f.raw);
    return f.addresses;
  }

  /**
   * RFC 5293 §4 addheader: the value is RFC 2047-encoded when not ASCII and
   * the field folded at 78 characters (RFC 5322 §2.1.1, §2.2.3). `last`
   * appends after the last field; otherwise the field goes first.
   */
  add(name: string, value: string, last: boolean): void {
    const fields = this.fields();
    const encoded = encodeWords(value);
    const text = foldHeader(name, encoded);
    // read back as Pigeonhole reads an added field: trailing blanks dropped, leading ones kept
    const f: ViewField = { key: name.toLowerCase(), name, raw: encoded, bytes: utf8.encode(text), decoded: value.replace(/[ \t]+$/, "") };
    if (last) fields.push(f);
    else fields.unshift(f);
    this.version++;
  }

  /** RFC 5293 §5 deleteheader: removes the given fields (by identity). */
  remove(victims: ReadonlySet<ViewField>): void {
    if (victims.size === 0) return;
    this.fieldsCache = this.fields().filter((f) => !victims.has(f));
    this.version++;
  }

  /** The message with the edits so far (the original bytes when there are none). */
  bytes(): Uint8Array {
    if (this.version === 0) return this.original;
    if (this.bytesCache && this.bytesCache.version === this.version) return this.bytesCache.bytes;
    const fields = this.fields();
    const rest = this.original.subarray(this.restStart);
    const parts: Uint8Array[] = fields.map((f) => f.bytes);
    // A message that had no header block at all gains one: the empty line that ends it.
    if (this.restStart === 0 && fields.length > 0 && !startsWithLineEnd(rest)) parts.push(CRLF);
    parts.push(rest);
    const out = Buffer.concat(parts);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    this.bytesCache = { version: this.version, bytes };
    return bytes;
  }
}

const CRLF = Uint8Array.of(13, 10);

function startsWithLineEnd(b: Uint8Array): boolean {
  return b[0] === 10 || (b[0] === 13 && b[1] === 10);
}
