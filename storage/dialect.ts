/**
 * What differs between the SQL engines the store runs on, in one small
 * interface, with SQLite's implementation here (PostgreSQL's is
 * storage/dialect-pg.ts). Everything else the store writes is SQL both engines
 * accept: `?` placeholders (the PostgreSQL driver numbers them), `RETURNING`,
 * `INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE`, `LIKE ? ESCAPE '\'`,
 * `CAST(x AS BIGINT)`, `substr`, `COALESCE`, `CASE`, window functions, and
 * bit tests written as `(flags & N) <> 0` (a boolean in both).
 *
 * Rule for new code: prefer a portable statement; add a method here only
 * for what has no portable form, document what it must return, and
 * implement it for every engine in the same change.
 */
import type { Queryable, SqlValue } from "./db.ts";

export type EngineName = "sqlite" | "postgres";

/** Columns of the full-text index, one per text search field family (storage/text-search.ts maps fields to them). */
export type TextColumn = "subject" | "from_text" | "to_text" | "cc_text" | "bcc_text" | "headers" | "body";

/** One message's text as the full-text index keeps it (decoded, whitespace runs collapsed). */
export interface IndexedText {
  subject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  headers: string;
  body: string;
}

/**
 * The full-text index, keyed by a blob's `blobs.seq` (one entry per distinct
 * message content). Searches are case-insensitive substring matches
 * (RFC 9051 §6.4.4): SQLite uses an FTS5 trigram table (`message_fts`,
 * contentless), PostgreSQL may use its own text search or trigram indexes.
 */
export interface TextIndex {
  /** Adds the text of blob `seq`. Called once per blob, inside a write transaction. */
  insert(tx: Queryable, seq: number, text: IndexedText): Promise<void>;
  /** Removes the entry of blob `seq`; no error if there is none. Inside a write transaction. */
  remove(tx: Queryable, seq: number): Promise<void>;
  /**
   * A subquery selecting the `seq` of every blob whose text in any of
   * `columns` contains `phrase` (at least three characters, whitespace runs
   * already collapsed to one space), case-insensitively. Used as
   * `b.seq IN (<sql>)` with `args` bound at that place.
   */
  matching(columns: readonly TextColumn[], phrase: string): { sql: string; args: SqlValue[] };
}

export interface Dialect {
  readonly name: EngineName;
  /** Larger of two SQL expressions (SQLite: the scalar two-argument `MAX(a, b)`; PostgreSQL: `GREATEST(a, b)`). */
  greatest(a: string, b: string): string;
  /** Smaller of two SQL expressions (SQLite: `MIN(a, b)`; PostgreSQL: `LEAST(a, b)`). */
  least(a: string, b: string): string;
  /**
   * A subquery with one placeholder, bound to `JSON.stringify(numbers)`, that
   * selects those integers: used as `x IN (${d.intList()})`, so a list of any
   * length is one statement and one prepared plan.
   */
  intList(): string;
  /** The same for a JSON array of strings. */
  textList(): string;
  /**
   * A query returning one row with one column: the rows of `subquery` as a
   * JSON array of arrays (`[[c1, c2, ...], ...]`, `[]` when empty), in the
   * subquery's ORDER BY order, `columns` being the subquery's column names.
   * One JSON document is far cheaper to fetch than 100,000 driver rows.
   */
  jsonRows(columns: readonly string[], subquery: string): string;
  /**
   * An SQL expression (no placeholders) giving the id the next `items` row will
   * get, so a message that starts a thread gets its own id as thread id in
   * the same INSERT; or null when the engine cannot know it, in which case
   * the store inserts with a NULL thread and sets `thread_id = id` after.
   */
  readonly nextItemIdExpr: string | null;
  /** True for the engine's "disk or database full" errors (a temporary failure, never corruption). */
  isDiskFull(e: unknown): boolean;
  /**
   * A case-insensitive sort key for a text column (SQLite: `x COLLATE NOCASE`,
   * ASCII folding; PostgreSQL: `lower(x)`). The webmail's list indexes
   * (migration 0020) are built on exactly this expression.
   */
  nocase(column: string): string;
  /**
   * Row locks for a SELECT inside a write transaction, appended after its
   * ORDER BY / LIMIT. SQLite: "" for both (BEGIN IMMEDIATE already excludes
   * every other writer). PostgreSQL: `forUpdate` locks the selected rows now,
   * in the SELECT's order, so transactions that lock several accounts lock
   * them in one fixed order (ORDER BY id) and cannot deadlock;
   * `forUpdateSkipLocked` claims only rows no other transaction holds (the
   * outbound queue shared by several processes or nodes).
   */
  readonly forUpdate: string;
  readonly forUpdateSkipLocked: string;
  /**
   * One row per conversation (thread_id) of the folder bound to the single
   * `?`: `uid` of its newest message (largest internal_date), `last` (that
   * date), `n` (messages in it) and `unread` (those without `seenFlag`).
   */
  threadHeads(seenFlag: number): string;
  readonly text: TextIndex;
}

const FTS_COLUMNS: readonly TextColumn[] = ["subject", "from_text", "to_text", "cc_text", "bcc_text", "headers", "body"];

/** SQLite (libSQL) implementation. */
export const sqliteDialect: Dialect = {
  name: "sqlite",
  greatest: (a, b) => `MAX(${a}, ${b})`,
  least: (a, b) => `MIN(${a}, ${b})`,
  intList: () => "SELECT value FROM json_each(?)",
  textList: () => "SELECT value FROM json_each(?)",
  // json_group_array keeps the order the subquery's rows arrive in
  jsonRows: (columns, subquery) => `SELECT json_group_array(json_array(${columns.join(", ")})) FROM (${subquery})`,
  // `items.id` is AUTOINCREMENT: the next id is the sequence's value + 1 (1 for the very first row)
  nextItemIdExpr: "COALESCE((SELECT seq + 1 FROM sqlite_sequence WHERE name = 'items'), 1)",
  nocase: (column) => `${column} COLLATE NOCASE`,
  forUpdate: "",
  forUpdateSkipLocked: "",
  // SQLite's "bare column with MAX()" rule: uid is that of the row holding MAX(internal_date);
  // the thread index of migration 0020 covers it
  threadHeads: (seen) => `SELECT uid, MAX(internal_date) AS last, COUNT(*) AS n, SUM(CASE WHEN (flags & ${seen}) = 0 THEN 1 ELSE 0 END) AS unread
                    FROM items WHERE folder_id = ? GROUP BY thread_id`,
  isDiskFull(e) {
    const code = String((e as { code?: unknown } | null)?.code ?? "");
    return code.startsWith("SQLITE_FULL") || /database or disk is full|ENOSPC|EDQUOT/i.test(String((e as Error | null)?.message ?? ""));
  },
  text: {
    async insert(tx, seq, t) {
      await tx.run("INSERT INTO message_fts (rowid, subject, from_text, to_text, cc_text, bcc_text, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        seq,
        t.subject,
        t.from,
        t.to,
        t.cc,
        t.bcc,
        t.headers,
        t.body,
      ]);
    },
    async remove(tx, seq) {
      await tx.run("DELETE FROM message_fts WHERE rowid = ?", [seq]);
    },
    matching(columns, phrase) {
      for (const c of columns) if (!FTS_COLUMNS.includes(c)) throw new Error(`unknown text column ${c}`);
      // an FTS5 column filter with one quoted phrase: with the trigram tokenizer a phrase
      // is a case-insensitive substring match
      return { sql: "SELECT rowid FROM message_fts WHERE message_fts MATCH ?", args: [`{${columns.join(" ")}} : "${phrase.replace(/"/g, '""')}"`] };
    },
  },
};
