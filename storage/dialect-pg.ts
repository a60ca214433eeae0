/**
 * PostgreSQL's side of storage/dialect.ts: what the store says differently
 * on PostgreSQL (the SQLite side and the rules are in dialect.ts).
 */
import type { Dialect, TextColumn } from "./dialect.ts";

const TEXT_COLUMNS: readonly TextColumn[] = ["subject", "from_text", "to_text", "cc_text", "bcc_text", "headers", "body"];

/** `%`, `_` and the escape character itself taken literally in a LIKE pattern (escape `\`). */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export const postgresDialect: Dialect = {
  name: "postgres",
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  least: (a, b) => `LEAST(${a}, ${b})`,
  // one JSON parameter, one plan for lists of any length (as json_each on SQLite)
  intList: () => "SELECT CAST(value AS BIGINT) AS value FROM jsonb_array_elements_text(CAST(? AS jsonb)) AS list(value)",
  textList: () => "SELECT value FROM jsonb_array_elements_text(CAST(? AS jsonb)) AS list(value)",
  // json_agg over an ordered subquery keeps the subquery's order (a plain
  // scan of its output); the text form is what the SQLite side returns.
  jsonRows: (columns, subquery) =>
    `SELECT CAST(COALESCE(json_agg(json_build_array(${columns.join(", ")})), '[]') AS TEXT) FROM (${subquery}) AS rows_in_order`,
  // An identity column's next value cannot be read without taking it, and
  // other sessions may take values meanwhile: the store sets thread_id = id
  // after the INSERT instead.
  nextItemIdExpr: null,
  // lower(): what the items_list_from / items_list_subject indexes of migration 0020 hold on PostgreSQL
  nocase: (column) => `lower(${column})`,
  // PostgreSQL "The Locking Clause" (SELECT ... FOR UPDATE [SKIP LOCKED])
  forUpdate: " FOR UPDATE",
  forUpdateSkipLocked: " FOR UPDATE SKIP LOCKED",
  // the newest message of each thread: DISTINCT ON keeps the first row of each
  // thread_id in the ORDER BY order; the window aggregates count the whole thread
  threadHeads: (seen) => `SELECT DISTINCT ON (thread_id) uid, internal_date AS last, COUNT(*) OVER w AS n,
                      SUM(CASE WHEN (flags & ${seen}) = 0 THEN 1 ELSE 0 END) OVER w AS unread
                    FROM items WHERE folder_id = ? WINDOW w AS (PARTITION BY thread_id)
                    ORDER BY thread_id, internal_date DESC, uid DESC`,
  isDiskFull(e) {
    // SQLSTATE 53100 disk_full (PostgreSQL Appendix A, class 53 "insufficient resources")
    const code = String((e as { code?: unknown } | null)?.code ?? "");
    return code === "53100" || /No space left on device|ENOSPC|EDQUOT|disk quota/i.test(String((e as Error | null)?.message ?? ""));
  },
  text: {
    async insert(tx, seq, t) {
      // idempotent: a blob indexed again (a retried batch) replaces its entry
      await tx.run(
        `INSERT INTO message_fts (seq, subject, from_text, to_text, cc_text, bcc_text, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (seq) DO UPDATE SET subject = excluded.subject, from_text = excluded.from_text, to_text = excluded.to_text,
           cc_text = excluded.cc_text, bcc_text = excluded.bcc_text, headers = excluded.headers, body = excluded.body`,
        [seq, t.subject, t.from, t.to, t.cc, t.bcc, t.headers, t.body],
      );
    },
    async remove(tx, seq) {
      await tx.run("DELETE FROM message_fts WHERE seq = ?", [seq]);
    },
    matching(columns, phrase) {
      for (const c of columns) if (!TEXT_COLUMNS.includes(c)) throw new Error(`unknown text column ${c}`);
      // IMAP SEARCH is a case-insensitive substring match (RFC 9051 §6.4.4), which
      // PostgreSQL's word-based text search (tsvector) cannot answer: ILIKE over
      // the pg_trgm GIN index on message_fts (migrations/fts.ts) can, from the
      // index for 3+ characters, with every candidate rechecked.
      const pattern = `%${likeLiteral(phrase)}%`;
      return {
        sql: `SELECT seq FROM message_fts WHERE ${columns.map((c) => `${c} ILIKE ? ESCAPE '\\'`).join(" OR ")}`,
        args: columns.map(() => pattern),
      };
    },
  },
};
