/**
 * Layering checker: which part of Pillarbox may import which (issue 14, item 7).
 *
 * Rules (paths are relative to the repository root; npm and `node:` packages
 * are always allowed, only imports of the project's own files are checked):
 *  - storage:   `storage/` imports only `storage/` and `mail/` (never a protocol, the
 *               kernel `src/`, the web client, scripts or tests).
 *  - protocol:  a protocol (`protocols/<name>/`) never imports another protocol.
 *               `protocols/http/` is one family (webmail, eas, autodiscover share
 *               it); files directly in `protocols/` (the registry) belong to none.
 *  - mail:      `mail/` imports nothing of the project outside `mail/`.
 *  - web:       `web/` imports only `web/` and the one shared API-types module
 *               (`protocols/http/webmail/api-types.ts`), which itself imports
 *               nothing of the project (so that door leads nowhere else).
 *  - src:       the kernel `src/` never imports `scripts/` or `tests/`.
 *  - sql:       no SQL outside `storage/`. A heuristic: string and template literals
 *               are searched for `SELECT ... FROM`, `INSERT INTO`, `UPDATE x SET`,
 *               `DELETE FROM`, `CREATE TABLE/INDEX/EXTENSION`, `ALTER/DROP TABLE`,
 *               `PRAGMA x` in upper case (prose and IMAP commands do not match).
 *               Source in `src/`, `protocols/`, `mail/` and `web/` may hold none. A test or script may hold SQL only when it
 *               tests or measures the store below its API (a migration test, a
 *               crash simulation): it lives in `tests/storage/` or imports a
 *               `storage/` module itself. Everything else goes through the store's
 *               API. Generated files (`*.generated.ts`) are not scanned.
 *  - internals: a protocol never imports the store's internals (the connection
 *               `storage/db.ts`, `pg-db`, `dialect*`, `core*`, the blob store
 *               `storage/blobstore.ts`, migrations): it uses `storage/api.ts` and
 *               its own state store (`eas-store.ts`, `webmail-store.ts`).
 *
 * `checkLayers()` is a pure function over `{file, imports, sql}` records, so
 * the rules can be tested on synthetic file lists; `scanSource()` is the small
 * import scanner (static `import ... from`, `export ... from`, side-effect
 * imports, `import type`, dynamic `import("...")`, `require("...")`), which
 * skips comments and the contents of string literals.
 *
 *   bun scripts/check-layers.ts [ROOT]    # prints every violation, exits 1 if any
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** One source file as the checker sees it. */
export interface FileImports {
  /** Path relative to the repository root, with `/` separators. */
  file: string;
  /** Module specifiers exactly as written (`../storage/api.ts`, `node:fs`, `hono`). */
  imports: string[];
  /** SQL-looking string literals found in the file (a line number and an excerpt each). */
  sql?: SqlHit[];
}

export interface SqlHit {
  line: number;
  text: string;
}

export type Rule = "storage" | "protocol" | "mail" | "web" | "src" | "sql" | "internals";

export interface Violation {
  rule: Rule;
  file: string;
  /** The import specifier, or the SQL excerpt for rule "sql". */
  target: string;
  /** For rule "sql": the line of the literal. */
  line?: number;
  message: string;
}

/** The one module the web client may import from the server side. */
export const WEB_SHARED_API_TYPES = "protocols/http/webmail/api-types.ts";
/** The protocol-neutral groupware shapes the API types re-export (src/groupware/model/types.ts); like the door, it imports nothing. */
export const WEB_SHARED_MODEL_TYPES = "src/groupware/model/types.ts";
/** The admin pages' door: protocols/http/admin/api-types.ts, importing only the import-free src/ops/types.ts. */
export const ADMIN_SHARED_API_TYPES = "protocols/http/admin/api-types.ts";
export const ADMIN_SHARED_MODEL_TYPES = "src/ops/types.ts";

/** Top-level folders that hold project source. */
export const SOURCE_ROOTS = ["src", "protocols", "storage", "mail", "web", "scripts", "tests"];

/**
 * The project file a specifier names, relative to the root, or null for a
 * package (`node:fs`, `hono`, `@libsql/client`) or a path outside the root.
 */
export function resolveImport(fromFile: string, spec: string): string | null {
  if (!spec.startsWith("./") && !spec.startsWith("../") && spec !== "." && spec !== "..") return null;
  const p = posix.normalize(posix.join(posix.dirname(fromFile), spec));
  if (p === ".." || p.startsWith("../")) return null;
  return p;
}

const under = (path: string, dir: string) => path === dir || path.startsWith(dir + "/");

/** `protocols/<name>` for a file inside a protocol folder, else null (the registry files in `protocols/`). */
export function protocolOf(path: string): string | null {
  const parts = path.split("/");
  if (parts[0] !== "protocols" || parts.length < 3) return null;
  return `protocols/${parts[1]}`;
}

function isTestOrScript(path: string): boolean {
  return under(path, "tests") || under(path, "scripts");
}

/** Store modules below its API: the connection, engine dialects, the shared core, blobs, migrations. */
export function isStorageInternal(path: string): boolean {
  if (!under(path, "storage")) return false;
  const rest = path.slice("storage/".length);
  return /^(db|pg-db|dialect[\w-]*|core[\w-]*|blobstore|migrate[\w-]*)\.ts$/.test(rest) || under(rest, "migrations") || under(rest, "core");
}

/** Every broken rule in a set of files (pure: no file system). */
export function checkLayers(files: readonly FileImports[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const targets = f.imports.map((spec) => ({ spec, path: resolveImport(f.file, spec) }));
    for (const { spec, path } of targets) {
      if (path === null) continue;
      const add = (rule: Rule, message: string) => out.push({ rule, file: f.file, target: spec, message });
      if (under(f.file, "storage") && !under(path, "storage") && !under(path, "mail")) {
        add("storage", `storage/ may import only storage/ and mail/, not ${path}`);
      }
      const own = protocolOf(f.file);
      const other = protocolOf(path);
      if (own && other && own !== other) {
        add("protocol", `${own} imports another protocol, ${path} (protocols talk through the kernel and the store)`);
      }
      if (own && isStorageInternal(path)) {
        add("internals", `${own} imports the store's internals, ${path}; use storage/api.ts`);
      }
      if (under(f.file, "mail") && !under(path, "mail")) {
        add("mail", `mail/ imports nothing of the project, not ${path}`);
      }
      if (under(f.file, "web") && !under(path, "web") && path !== WEB_SHARED_API_TYPES && path !== ADMIN_SHARED_API_TYPES) {
        add("web", `web/ may import only web/, ${WEB_SHARED_API_TYPES} and ${ADMIN_SHARED_API_TYPES}, not ${path}`);
      }
      if (f.file === ADMIN_SHARED_API_TYPES && path !== ADMIN_SHARED_MODEL_TYPES) {
        add("web", `${ADMIN_SHARED_API_TYPES} is the admin pages' one door to the server: it imports nothing of the project, not ${path}`);
      }
      if (f.file === ADMIN_SHARED_MODEL_TYPES) {
        add("web", `${ADMIN_SHARED_MODEL_TYPES} is read by the admin pages through ${ADMIN_SHARED_API_TYPES}: it imports nothing, not ${path}`);
      }
      if (f.file === WEB_SHARED_API_TYPES && path !== WEB_SHARED_MODEL_TYPES) {
        add("web", `${WEB_SHARED_API_TYPES} is web/'s one door to the server: it imports nothing of the project, not ${path}`);
      }
      if (f.file === WEB_SHARED_MODEL_TYPES) {
        add("web", `${WEB_SHARED_MODEL_TYPES} is read by the browser client through ${WEB_SHARED_API_TYPES}: it imports nothing, not ${path}`);
      }
      if (under(f.file, "src") && (under(path, "scripts") || under(path, "tests"))) {
        add("src", `src/ never imports scripts/ or tests/, not ${path}`);
      }
    }
    if (f.sql?.length && !under(f.file, "storage") && !f.file.endsWith(".generated.ts")) {
      const testsStore =
        under(f.file, "tests/storage") || (isTestOrScript(f.file) && targets.some((t) => t.path !== null && under(t.path, "storage")));
      if (!testsStore) {
        for (const hit of f.sql) {
          out.push({
            rule: "sql",
            file: f.file,
            target: hit.text,
            line: hit.line,
            message: `SQL outside storage/ (line ${hit.line}: ${hit.text}); use the store's API`,
          });
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- scanner

interface Literal {
  value: string;
  offset: number;
}

/**
 * Splits TypeScript source into code (comments removed, every string or
 * template literal replaced by the placeholder `"#N"`) and the literals.
 * Regular-expression literals are recognised by the usual rule (a `/` where an
 * expression may start) so quotes inside them do not open a string.
 */
function tokenize(src: string): { code: string; literals: Literal[] } {
  const literals: Literal[] = [];
  let code = "";
  let i = 0;
  const n = src.length;
  // last significant character of code, to tell a regex from a division
  let lastSig = "";
  let lastWord = "";
  const regexAllowedAfterWord = new Set(["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await"]);
  // brace depth stack for template literal substitutions
  const templateDepth: number[] = [];
  let depth = 0;

  const pushLiteral = (value: string, offset: number) => {
    code += `"#${literals.length}"`;
    literals.push({ value, offset });
    lastSig = '"';
    lastWord = "";
  };

  const readTemplate = (start: number): number => {
    // at src[start] === "`" or continuing after "}" of a substitution
    let j = start;
    let text = "";
    while (j < n) {
      const c = src[j]!;
      if (c === "\\") {
        text += src.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (c === "`") {
        pushLiteral(text, start);
        return j + 1;
      }
      if (c === "$" && src[j + 1] === "{") {
        pushLiteral(text, start);
        code += "${";
        templateDepth.push(depth);
        depth++;
        lastSig = "{";
        return j + 2;
      }
      text += c;
      j++;
    }
    pushLiteral(text, start);
    return n;
  };

  while (i < n) {
    const c = src[i]!;
    const d = src[i + 1];
    if (c === "/" && d === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && d === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      // keep line breaks so offsets of later code still map to lines through literals only
      code += " ";
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      while (j < n && src[j] !== c && src[j] !== "\n") {
        if (src[j] === "\\") {
          value += src.slice(j, j + 2);
          j += 2;
        } else value += src[j++];
      }
      pushLiteral(value, i);
      i = j + 1;
      continue;
    }
    if (c === "`") {
      i = readTemplate(i + 1);
      continue;
    }
    if (c === "}" && templateDepth.length && templateDepth[templateDepth.length - 1] === depth - 1) {
      templateDepth.pop();
      depth--;
      code += "}";
      i = readTemplate(i + 1);
      continue;
    }
    if (c === "/") {
      const regexStart = lastSig === "" || "(,=:[!&|?{};+-*%<>~^".includes(lastSig) || regexAllowedAfterWord.has(lastWord);
      if (regexStart) {
        let j = i + 1;
        let inClass = false;
        while (j < n && src[j] !== "\n") {
          const r = src[j]!;
          if (r === "\\") {
            j += 2;
            continue;
          }
          if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          else if (r === "/" && !inClass) break;
          j++;
        }
        j++;
        while (j < n && /[a-z]/i.test(src[j]!)) j++;
        code += "/re/";
        lastSig = "/";
        lastWord = "";
        i = j;
        continue;
      }
    }
    if (c === "{") depth++;
    else if (c === "}") depth--;
    code += c;
    if (/[A-Za-z0-9_$]/.test(c)) {
      lastWord = (/[A-Za-z0-9_$]/.test(lastSig) ? lastWord : "") + c;
      lastSig = c;
    } else if (!/\s/.test(c)) {
      lastSig = c;
      lastWord = "";
    }
    i++;
  }
  return { code, literals };
}

const IMPORT_PATTERNS = [
  // import x from "m"; import { a, type b } from "m"; import * as x from "m"; import type { T } from "m"
  /\bimport\s+(?:type\s+)?[\w$*{}\s,]*?\bfrom\s*"#(\d+)"/g,
  // import "m" (side effect)
  /\bimport\s*"#(\d+)"/g,
  // export * from "m"; export { a } from "m"; export type { T } from "m"; export * as ns from "m"
  /\bexport\s+(?:type\s+)?(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*"#(\d+)"/g,
  // import("m"), typeof import("m")
  /\bimport\s*\(\s*"#(\d+)"\s*[,)]/g,
  // require("m")
  /\brequire\s*\(\s*"#(\d+)"\s*\)/g,
];

/** SQL statements as they appear in code (upper-case keywords). */
const SQL_PATTERNS = [
  /\bSELECT\b[^;]{0,400}?\bFROM\s+["\w]/,
  /\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\s+["\w]/,
  /\bUPDATE\s+["\w]+\s+SET\b/,
  /\bDELETE\s+FROM\s+["\w]/,
  /\bCREATE\s+(?:UNIQUE\s+|VIRTUAL\s+)?(?:TABLE|INDEX|EXTENSION)\b/,
  /\b(?:ALTER|DROP)\s+(?:TABLE|INDEX)\b/,
  /\bPRAGMA\s+[a-z_]+/,
];

/** The imports and SQL-looking literals of one source text. */
export function scanSource(src: string): { imports: string[]; sql: SqlHit[] } {
  const { code, literals } = tokenize(src);
  const imports: string[] = [];
  for (const re of IMPORT_PATTERNS) {
    for (const m of code.matchAll(re)) {
      const lit = literals[Number(m[1])];
      if (lit) imports.push(lit.value);
    }
  }
  const sql: SqlHit[] = [];
  for (const lit of literals) {
    if (SQL_PATTERNS.some((re) => re.test(lit.value))) {
      const line = src.slice(0, lit.offset).split("\n").length;
      sql.push({ line, text: lit.value.replace(/\s+/g, " ").trim().slice(0, 80) });
    }
  }
  return { imports, sql };
}

const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".tmp", ".artifacts", "data"]);

/** Every `.ts`/`.tsx` file under the source roots of `root`, relative, sorted. */
export function listSourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (SKIP_DIRS.has(name)) continue;
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(relative(root, full).split(sep).join("/"));
    }
  };
  for (const top of SOURCE_ROOTS) walk(join(root, top));
  return out.sort();
}

/** Scans the repository at `root` and checks it. */
export function checkRepository(root: string): { files: number; violations: Violation[] } {
  const records: FileImports[] = listSourceFiles(root).map((file) => {
    const { imports, sql } = scanSource(readFileSync(join(root, file), "utf8"));
    return { file, imports, sql };
  });
  return { files: records.length, violations: checkLayers(records) };
}

export function formatViolation(v: Violation): string {
  return v.rule === "sql" ? `[${v.rule}] ${v.file}:${v.line}: ${v.message}` : `[${v.rule}] ${v.file} -> ${v.target}: ${v.message}`;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? join(fileURLToPath(new URL(".", import.meta.url)), ".."));
  const { files, violations } = checkRepository(root);
  for (const v of violations) console.log(formatViolation(v));
  console.log(`${files} files checked, ${violations.length} layering violation(s)`);
  process.exit(violations.length ? 1 : 0);
}
