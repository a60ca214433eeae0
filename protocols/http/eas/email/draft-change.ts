/**
 * A 16.x Sync Change that edits a draft's content (MS-ASEMAIL 16.0 drafts):
 * the elements present replace the stored value (To, Cc, Bcc, Subject,
 * Importance, Body), the ones absent keep it; AirSyncBase:Attachments/Add
 * adds attachments (MS-ASAIRS §2.2.2.2) and Attachments/Delete removes the
 * one its FileReference names (MS-ASAIRS §2.2.2.21, §2.2.2.24.2). A Body of
 * Type 4 (MIME) replaces the whole message, as in a draft Add.
 *
 * Stored messages are immutable, so the edit is a new message built from the
 * stored one: the header fields the Change leaves alone and every part it
 * does not touch are kept byte for byte. Bad data is a DraftError (a Sync
 * Status), never a half-edited draft.
 */
import { randomBytes } from "node:crypto";
import type { MimePart } from "../../../../mail/types.ts";
import { formatMailDate } from "../../../../mail/date.ts";
import { encodeWords, foldHeader } from "../../../../mail/encode.ts";
import { renderMessage } from "../../../../mail/build.ts";
import { parseMime } from "../../../../mail/index.ts";
import { kid, kids, kidText, text, type WElement } from "../wbxml/tree.ts";
import { concat, headerLines } from "./compose.ts";
import { analyseParts, parseFileReference } from "./convert.ts";
import { attachmentPart, DraftError, draftAttachments, draftMessage, MAX_DRAFT_ATTACHMENTS, type DraftAttachment } from "./draft.ts";

/** The ApplicationData elements that edit a message's content (the rest of an Email Change is Read/Flag state). */
export const DRAFT_CONTENT = ["Email:To", "Email:Cc", "Email2:Bcc", "Email:Subject", "AirSyncBase:Body", "AirSyncBase:Attachments"];

/**
 * Whether a Change edits content. Importance counts only for a draft (`draft`): on another message it
 * is a field the device cannot change and is ignored, as before drafts could be edited.
 */
export function editsDraftContent(data: WElement | undefined, draft: boolean): boolean {
  return DRAFT_CONTENT.some((q) => kid(data, q) !== undefined) || (draft && kid(data, "Email:Importance") !== undefined);
}

export interface EditedDraft {
  raw: Uint8Array;
  /** The attachments the Change added, in request order, with their MIME part paths in `raw` (for their FileReferences). */
  attachments: DraftAttachment[];
  attachmentPaths: string[];
}

/** Header values from the device: no line breaks (RFC 5322 §2.2). */
const one = (v: string | undefined) => (v ?? "").replace(/[\r\n]+/g, " ").trim();

const isContentField = (n: string) => n.startsWith("content-") || n === "mime-version";

/** MS-ASEMAIL §2.2.2.39 Importance: 0 low, 1 normal, 2 high. */
const IMPORTANCE: Record<string, string> = { "0": "low", "1": "normal", "2": "high" };

/** The attachment paths the Change deletes, each checked against the stored draft (MS-ASAIRS §2.2.2.24.2). */
function deletedPaths(data: WElement | undefined, itemId: number, attachmentPaths: Set<string>): Set<string> {
  const dels = kids(kid(data, "AirSyncBase:Attachments"), "AirSyncBase:Delete");
  if (dels.length > MAX_DRAFT_ATTACHMENTS) throw new DraftError(`more than ${MAX_DRAFT_ATTACHMENTS} attachment deletes`);
  const out = new Set<string>();
  for (const d of dels) {
    const ref = parseFileReference(kidText(d, "AirSyncBase:FileReference") ?? "");
    // A FileReference of another item, or of a part that is no attachment of this one, is no edit the device can mean.
    if (!ref || ref.itemId !== itemId || !attachmentPaths.has(ref.path)) throw new DraftError("Attachments/Delete names no attachment of this draft");
    out.add(ref.path);
  }
  return out;
}

/** The header fields of the edited draft: the Change's values first, then the stored fields it does not replace. */
function headerBlock(raw: Uint8Array, root: MimePart, data: WElement | undefined, from: string, now: number, keepContent: boolean): Uint8Array {
  const replaced = new Set(["from", "sender", "date"]);
  const fields: string[] = [foldHeader("From", from)];
  const address = (q: string, name: string) => {
    const e = kid(data, q);
    if (!e) return;
    replaced.add(name.toLowerCase());
    const v = one(text(e));
    if (v) fields.push(foldHeader(name, v)); // an empty element clears the field
  };
  address("Email:To", "To");
  address("Email:Cc", "Cc");
  address("Email2:Bcc", "Bcc"); // a draft keeps Bcc (RFC 5322 §3.6.3)
  const subject = kid(data, "Email:Subject");
  if (subject) {
    replaced.add("subject");
    const s = one(text(subject));
    if (s) fields.push(foldHeader("Subject", encodeWords(s)));
  }
  const imp = kidText(data, "Email:Importance");
  if (imp !== undefined) {
    if (!(imp in IMPORTANCE)) throw new DraftError(`Importance ${imp}`);
    for (const n of ["importance", "x-priority", "priority", "x-msmail-priority"]) replaced.add(n);
    if (imp !== "1") fields.push(`Importance: ${IMPORTANCE[imp]}\r\n`);
  }
  fields.push(`Date: ${formatMailDate(now)}\r\n`); // the draft as saved now
  const kept = headerLines(raw, root.headerStart, root.bodyStart)
    .filter((l) => l.name !== "" && !replaced.has(l.name) && (keepContent || !isContentField(l.name)))
    .map((l) => raw.subarray(l.start, l.end));
  return concat([...fields, ...kept]);
}

/** One part as a MIME entity (its header and body); the root keeps only its content fields. */
function entityOf(raw: Uint8Array, p: MimePart, isRoot: boolean): Uint8Array {
  if (!isRoot) return raw.subarray(p.headerStart, p.bodyEnd);
  const own = headerLines(raw, p.headerStart, p.bodyStart).filter((l) => isContentField(l.name) && l.name !== "mime-version");
  return concat([...own.map((l) => raw.subarray(l.start, l.end)), "\r\n", raw.subarray(p.bodyStart, p.bodyEnd)]);
}

const under = (path: string, prefix: string) => prefix === "" || path === prefix || path.startsWith(prefix + ".");

/**
 * A part without the deleted attachments under it: kept whole when none is,
 * a multipart re-joined with its own boundary around the children left, null
 * when nothing is left.
 */
function pruned(raw: Uint8Array, p: MimePart, path: string, deleted: Set<string>, isRoot: boolean): Uint8Array | null {
  if (!p.parts) return deleted.has(path || "1") ? null : entityOf(raw, p, isRoot);
  if (![...deleted].some((d) => under(d, path))) return entityOf(raw, p, isRoot);
  const boundary = p.params.boundary ?? "";
  const children = p.parts.map((c, i) => pruned(raw, c, path ? `${path}.${i + 1}` : String(i + 1), deleted, false)).filter((x): x is Uint8Array => x !== null);
  if (!children.length || !boundary) return null;
  const head = isRoot ? headerLines(raw, p.headerStart, p.bodyStart).filter((l) => isContentField(l.name) && l.name !== "mime-version") : headerLines(raw, p.headerStart, p.bodyStart);
  const body: (Uint8Array | string)[] = [];
  // The line end before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
  for (const ch of children) body.push(`--${boundary}\r\n`, ch, "\r\n");
  body.push(`--${boundary}--\r\n`);
  return concat([...head.map((l) => raw.subarray(l.start, l.end)), "\r\n", ...body]);
}

/** The leaves of a part that are attachments (by path) and not deleted, whole. */
function attachmentLeaves(raw: Uint8Array, p: MimePart, path: string, isAtt: Set<string>, deleted: Set<string>, isRoot: boolean, out: Uint8Array[]): void {
  if (p.parts) {
    p.parts.forEach((c, i) => attachmentLeaves(raw, c, path ? `${path}.${i + 1}` : String(i + 1), isAtt, deleted, false, out));
    return;
  }
  const leaf = path || "1";
  if (isAtt.has(leaf) && !deleted.has(leaf)) out.push(entityOf(raw, p, isRoot));
}

/** A new text body entity (MS-ASAIRS §2.2.2.22.1 Type 1 plain, 2 HTML). */
function textEntity(type: string, content: string): Uint8Array {
  const msg = renderMessage([], { type: type === "2" ? "text/html" : "text/plain", content });
  const mv = "MIME-Version: 1.0\r\n".length;
  return msg.subarray(mv);
}

/**
 * The draft `oldRaw` (stored as item `itemId`) edited by a Change's ApplicationData; DraftError when the
 * Change cannot be applied as the device meant it. `from` is the account (a draft's From is always it).
 */
export function editedDraft(oldRaw: Uint8Array, data: WElement | undefined, itemId: number, from: string, now: number, maxBytes: number): EditedDraft {
  let parsed;
  try {
    parsed = parseMime(oldRaw);
  } catch {
    throw new DraftError("the stored draft cannot be parsed");
  }
  const root = parsed.root;
  const isAtt = new Set(analyseParts(root).attachments.map((a) => a.path));
  const deleted = deletedPaths(data, itemId, isAtt);
  const body = kid(data, "AirSyncBase:Body");
  const type = body ? (kidText(body, "AirSyncBase:Type") ?? "1") : null;
  if (type === "4") return draftMessage(data, from, now, maxBytes); // the device's MIME is the whole new message
  if (type !== null && type !== "1" && type !== "2") throw new DraftError(`draft body Type ${type}`); // MS-ASAIRS §2.2.2.22.1: RTF is not a draft format
  const adds = draftAttachments(data, maxBytes);

  let raw: Uint8Array;
  let attachmentPaths: string[] = [];
  if (type === null && !deleted.size && !adds.length) {
    // Header fields only: the body stays byte for byte.
    const lines = headerLines(oldRaw, root.headerStart, root.bodyStart);
    const rest = lines.length ? lines[lines.length - 1]!.end : root.headerStart; // the blank line and the body
    raw = concat([headerBlock(oldRaw, root, data, from, now, true), oldRaw.subarray(rest)]);
  } else {
    const bodyPieces: Uint8Array[] = [];
    const kept: Uint8Array[] = [];
    const mixed = root.type === "multipart" && root.subtype === "mixed" && !!root.parts?.length;
    const top: { p: MimePart; path: string; isRoot: boolean }[] = mixed ? root.parts!.map((p, i) => ({ p, path: String(i + 1), isRoot: false })) : [{ p: root, path: "", isRoot: true }];
    for (const t of top) {
      if (!t.p.parts && isAtt.has(t.path || "1")) {
        if (!deleted.has(t.path || "1")) kept.push(entityOf(oldRaw, t.p, t.isRoot));
        continue;
      }
      if (type !== null) {
        // The old body goes; attachments nested in it (inline pictures of a multipart/related) stay, as parts of their own.
        attachmentLeaves(oldRaw, t.p, t.path, isAtt, deleted, t.isRoot, kept);
        continue;
      }
      const rest = pruned(oldRaw, t.p, t.path, deleted, t.isRoot);
      if (rest) bodyPieces.push(rest);
    }
    if (type !== null) bodyPieces.unshift(textEntity(type, text(kid(body, "AirSyncBase:Data"))));
    const pieces = [...bodyPieces, ...kept, ...adds.map(attachmentPart)];
    if (!pieces.length) pieces.push(textEntity("1", ""));
    const head = headerBlock(oldRaw, root, data, from, now, false);
    if (pieces.length === 1) raw = concat([head, "MIME-Version: 1.0\r\n", pieces[0]!]);
    else {
      const boundary = `=_pillarbox_${randomBytes(12).toString("hex")}`;
      const parts: (Uint8Array | string)[] = [];
      for (const p of pieces) parts.push(`--${boundary}\r\n`, p, "\r\n");
      parts.push(`--${boundary}--\r\n`);
      raw = concat([head, `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n`, ...parts]);
    }
    // The added attachments are the last children of the top-level multipart/mixed (or the whole message alone).
    const first = pieces.length - adds.length;
    attachmentPaths = adds.map((_, i) => String(first + i + 1));
  }
  if (raw.length > maxBytes) throw new DraftError("the draft is larger than the message size limit");
  if (analyseParts(parseMime(raw).root).attachments.length > MAX_DRAFT_ATTACHMENTS) throw new DraftError(`more than ${MAX_DRAFT_ATTACHMENTS} attachments`);
  return { raw, attachments: adds, attachmentPaths };
}
