/**
 * Text search (IMAP SEARCH BODY/TEXT/SUBJECT/FROM/..., webmail and
 * ActiveSync search): the full-text index for terms of three or more
 * characters, one bounded pass over the messages for the rest.
 */
import { StoreError, type TextField, type TextSearchOptions, type TextTerm } from "./api.ts";
import { analyzeMessage, type MessageAnalysis } from "../mail/index.ts";
import type { StoreCore } from "./core.ts";
import type { TextColumn } from "./dialect.ts";
import type { FullText } from "./fulltext.ts";
import { num, str } from "./rows.ts";

/** Index columns each text search field reads. */
const TEXT_COLUMNS: Record<TextField, readonly TextColumn[]> = {
  body: ["body"],
  text: ["subject", "from_text", "to_text", "cc_text", "bcc_text", "headers", "body"],
  subject: ["subject"],
  from: ["from_text"],
  to: ["to_text"],
  cc: ["cc_text"],
  bcc: ["bcc_text"],
};
interface ScanBudget {
  read(bytes: number): void;
  compare(bytes: number): void;
}

/** Counts a text search's work; past either limit the search ends with StoreError("LIMIT"). */
function scanBudget(opts: TextSearchOptions): ScanBudget {
  const maxRead = opts.maxReadBytes ?? Infinity;
  const maxCompare = opts.maxCompareBytes ?? Infinity;
  let read = 0;
  let compared = 0;
  return {
    read(n) {
      read += n;
      if (read > maxRead) throw new StoreError("LIMIT", "Search too expensive");
    },
    compare(n) {
      compared += n;
      if (compared > maxCompare) throw new StoreError("LIMIT", "Search too expensive");
    },
  };
}

export class TextSearch {
  constructor(
    private readonly core: StoreCore,
    private readonly fulltext: FullText,
  ) {}

  async searchText(folderId: number, field: TextField, query: string): Promise<number[]> {
    return (await this.searchTextTerms(folderId, [{ field, query }]))[0];
  }

  /**
   * Several text criteria at once (one IMAP SEARCH). Terms of three or more
   * characters use the FTS5 trigram index; shorter ones cannot, so they are
   * tested by reading the messages themselves: one pass over the candidate
   * messages for all such terms together, each message read and decoded at
   * most once. Bodies indexed only in part (FTS_BODY_MAX) are read in the
   * same pass for the long BODY/TEXT terms. Work beyond `maxReadBytes`
   * (message bytes read and decoded) or `maxCompareBytes` (text bytes
   * compared) ends the search with StoreError("LIMIT"), so one command
   * cannot hold the CPU indefinitely.
   */
  async searchTextTerms(folderId: number, terms: readonly TextTerm[], opts: TextSearchOptions = {}): Promise<number[][]> {
    const cand = opts.uids ? new Set(opts.uids) : null;
    const spend = scanBudget(opts);
    const out: number[][] = terms.map(() => []);
    const indexed: number[] = [];
    /** Short subject/from terms: answered from the item rows. */
    const rowTerms: { i: number; q: string }[] = [];
    /** Terms tested on the decoded message; `partialOnly`: only where the index holds part of the body. */
    const scanTerms: { i: number; q: string; field: TextField; partialOnly: boolean }[] = [];
    let everything: number[] | null = null;
    for (let i = 0; i < terms.length; i++) {
      const { field } = terms[i];
      if (!TEXT_COLUMNS[field]) throw new StoreError("INVALID", `unknown search field ${field}`);
      // the index holds text with whitespace runs collapsed: do the same to the query
      const query = terms[i].query.replace(/\s+/g, " ");
      if (query === "" || query === " ") {
        everything ??= (await this.core.db.raw("SELECT uid FROM items WHERE folder_id = ? ORDER BY uid", [folderId])).map((r) => num(r[0])).filter((u) => !cand || cand.has(u));
        out[i] = everything.slice();
      } else if ([...query].length < 3) {
        if (field === "subject" || field === "from") rowTerms.push({ i, q: query.toLowerCase() });
        else scanTerms.push({ i, q: query.toLowerCase(), field, partialOnly: false });
      } else {
        indexed.push(i);
        if (field === "body" || field === "text") scanTerms.push({ i, q: query.toLowerCase(), field, partialOnly: true });
      }
    }
    if (indexed.length) await this.fulltext.flushPendingText();
    for (const i of indexed) {
      const { field } = terms[i];
      const query = terms[i].query.replace(/\s+/g, " ");
      // a substring match, case-insensitive (RFC 9051 §6.4.4 SEARCH semantics)
      const match = this.core.dialect.text.matching(TEXT_COLUMNS[field], query);
      // `+b.seq`: not an index constraint. As one, SQLite probes blobs once per item per matching
      // entry (5,000 hits in a 5,000-message folder: 5.3 s); as a plain test against the
      // subquery's list it is one lookup per item (11 ms). PostgreSQL reads it as the same value.
      const rows = await this.core.db.raw(
        `SELECT i.uid FROM items i JOIN blobs b ON b.id = i.blob_id WHERE i.folder_id = ? AND +b.seq IN (${match.sql}) ORDER BY i.uid`,
        [folderId, ...match.args],
      );
      for (const r of rows) {
        const u = num(r[0]);
        if (!cand || cand.has(u)) out[i].push(u);
      }
    }
    if (rowTerms.length) {
      const rows = await this.core.db.raw("SELECT uid, subject, from_name, from_addr, envelope FROM items WHERE folder_id = ? ORDER BY uid", [folderId]);
      for (const r of rows) {
        const u = num(r[0]);
        if (cand && !cand.has(u)) continue;
        let subject: string | null = null;
        let from: string | null = null;
        for (const t of rowTerms) {
          const hay = terms[t.i].field === "subject" ? (subject ??= str(r[1]).toLowerCase()) : (from ??= `${str(r[2])} ${str(r[3])} ${str(r[4])}`.toLowerCase());
          spend.compare(hay.length);
          if (hay.includes(t.q)) out[t.i].push(u);
        }
      }
    }
    if (scanTerms.length) await this.scanTextTerms(folderId, cand, scanTerms, out, spend);
    // long BODY/TEXT terms got hits from the index and from the partly indexed bodies
    for (const t of scanTerms) if (t.partialOnly && out[t.i].length) out[t.i] = [...new Set(out[t.i])].sort((a, b) => a - b);
    return out;
  }

  /** Test counters: messages read by text scans (each read decodes the message once). */
  readonly textScanStats = { messagesRead: 0 };

  /** One pass over the folder's candidate messages, testing every term that needs the message text. */
  private async scanTextTerms(
    folderId: number,
    cand: Set<number> | null,
    scanTerms: { i: number; q: string; field: TextField; partialOnly: boolean }[],
    out: number[][],
    spend: ScanBudget,
  ): Promise<void> {
    const onlyPartial = scanTerms.every((t) => t.partialOnly);
    const rows = await this.core.db.raw(
      `SELECT i.uid, i.blob_id, b.fts_partial, b.size FROM items i JOIN blobs b ON b.id = i.blob_id WHERE i.folder_id = ?${onlyPartial ? " AND b.fts_partial = 1" : ""} ORDER BY i.uid`,
      [folderId],
    );
    // hits per blob: the same message stored twice in a folder is read once
    const seen = new Map<string, number[] | null>();
    for (const [uidV, blobV, partialV, sizeV] of rows) {
      const uid = num(uidV);
      if (cand && !cand.has(uid)) continue;
      const blobId = str(blobV);
      let hits = seen.get(blobId);
      if (hits === undefined) {
        const partial = num(partialV) === 1;
        const want = scanTerms.filter((t) => !t.partialOnly || partial);
        if (!want.length) {
          seen.set(blobId, null);
          continue;
        }
        spend.read(num(sizeV));
        let f: MessageAnalysis["fts"];
        try {
          this.textScanStats.messagesRead++;
          f = analyzeMessage(await this.core.blobs.get(blobId)).fts;
        } catch {
          seen.set(blobId, null);
          continue;
        }
        const hay = new Map<TextField, string>();
        hits = [];
        for (const t of want) {
          let h = hay.get(t.field);
          if (h === undefined) {
            const raw = t.field === "body" ? f.body : t.field === "to" ? f.to : t.field === "cc" ? f.cc : t.field === "bcc" ? f.bcc : `${f.headers}\n${f.body}`;
            h = raw.toLowerCase();
            hay.set(t.field, h);
          }
          spend.compare(h.length);
          if (h.includes(t.q)) hits.push(t.i);
        }
        seen.set(blobId, hits);
      }
      if (hits) for (const i of hits) out[i].push(uid);
    }
  }
}
