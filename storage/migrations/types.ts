/**
 * A schema migration. Versions 0001-0009 belong to storage, 0010-0019 to
 * ActiveSync, 0020-0029 to webmail (other areas: ask the storage owner for a
 * range). Each migration runs in its own transaction and is recorded in
 * `schema_migrations`; an applied migration is never edited — add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}
