/**
 * A schema migration. Versions 0001-0009 belong to storage, 0010-0019 to
 * ActiveSync, 0020-0029 to webmail, 0030-0039 to the item model and the
 * change feed (other areas: ask the storage owner for a range). Each
 * migration runs in its own transaction and is recorded in
 * `schema_migrations`; an applied migration is never edited — add a new one.
 *
 * One definition serves both engines (SQLite/libSQL and PostgreSQL): a
 * migration is a list of steps in a small portable DDL that
 * `storage/migrations/render.ts` turns into each engine's SQL. What cannot be
 * said portably (SQLite's FTS5 table, PostgreSQL's trigram indexes) is an
 * engine-specific step; an engine with nothing to do for a step skips it.
 */

/** Column types, mapped per engine (render.ts): integers are 64-bit on both. */
export type ColumnType =
  /** Auto-incremented, never reused primary key (SQLite AUTOINCREMENT, PostgreSQL identity). */
  | "id"
  /** Primary key whose value the caller supplies or the engine assigns (SQLite rowid alias, PostgreSQL identity by default). */
  | "rowid"
  | "integer"
  | "real"
  | "text"
  | "blob";

export interface ColumnDef {
  name: string;
  type: ColumnType;
  notNull?: boolean;
  /** A literal default: number, string (quoted by the renderer) or null. */
  default?: number | string | null;
  primaryKey?: boolean;
  unique?: boolean;
  references?: { table: string; column: string; onDelete?: "cascade" | "set null" };
}

export interface TableDef {
  name: string;
  columns: ColumnDef[];
  /** A composite primary key (instead of a column's `primaryKey`). */
  primaryKey?: string[];
  /** Composite UNIQUE constraints. */
  unique?: string[][];
}

export interface IndexDef {
  name: string;
  table: string;
  columns: string[];
  unique?: boolean;
  /** A partial-index condition in portable SQL (e.g. "fts_indexed = 0"). */
  where?: string;
}

export type MigrationStep =
  | { createTable: TableDef }
  | { createIndex: IndexDef }
  | { addColumn: { table: string; column: ColumnDef } }
  | { dropIndex: string }
  | { dropTable: string }
  /** Portable SQL (DML or DDL) that both engines run as written. */
  | { sql: string }
  /** Engine-specific SQL; an engine without an entry does nothing for this step. */
  | { sqlite?: string[]; postgres?: string[] };

export interface Migration {
  version: number;
  name: string;
  steps: MigrationStep[];
}
