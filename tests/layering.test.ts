/**
 * Layering (issue 14, item 7): the repository obeys the import rules of
 * scripts/check-layers.ts, and each rule fires on a deliberate break.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  checkLayers,
  checkRepository,
  formatViolation,
  listSourceFiles,
  scanSource,
  WEB_SHARED_API_TYPES,
  type FileImports,
  type Rule,
} from "../scripts/check-layers.ts";

const ROOT = join(import.meta.dir, "..");

test("the repository breaks no layering rule", () => {
  const { files, violations } = checkRepository(ROOT);
  expect(files).toBeGreaterThan(100);
  // the message lists every violation, one per line
  expect(violations.map(formatViolation).join("\n")).toBe("");
});

test("the scan covers every source folder and skips dependencies and build output", () => {
  const files = listSourceFiles(ROOT);
  for (const top of ["src/", "protocols/", "storage/", "mail/", "web/", "scripts/", "tests/"]) {
    expect(files.some((f) => f.startsWith(top))).toBe(true);
  }
  expect(files.some((f) => f.includes("node_modules/") || f.startsWith("dist/") || f.startsWith(".tmp/"))).toBe(false);
  expect(files).toContain("tests/layering.test.ts");
});

test("a deliberate break in a repository on disk is found by the file scan", () => {
  const root = mkdtempSync(join(tmpdir(), "pb-layers-"));
  try {
    const write = (file: string, text: string) => {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    };
    write("storage/api.ts", `export interface MailStore {}\n`);
    write("storage/folders.ts", `import type { MailStore } from "./api.ts";\nimport { mailboxName } from "../protocols/imap/mailbox.ts";\n`);
    write("protocols/imap/mailbox.ts", `export const mailboxName = (s: string) => s;\n`);
    write("protocols/pop3/maildrop.ts", `import { mailboxName } from "../imap/mailbox.ts";\n`);
    write("mail/date.ts", `export { log } from "../src/log.ts";\n`);
    write("src/log.ts", `export const log = 1;\n`);
    write("node_modules/pkg/index.ts", `import "../../protocols/imap/mailbox.ts";\n`);
    const { files, violations } = checkRepository(root);
    expect(files).toBe(6);
    expect(violations.map((v) => `${v.rule} ${v.file}`).sort()).toEqual(["mail mail/date.ts", "protocol protocols/pop3/maildrop.ts", "storage storage/folders.ts"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe("the scanner", () => {
  test("finds every import form", () => {
    const src = [
      `import a from "./a.ts";`,
      `import { b, type B } from "../b.ts";`,
      `import * as c from "./c.ts";`,
      `import type { D } from "./d.ts";`,
      `import "./e.ts";`,
      `import f, { g } from './f.ts';`,
      `export * from "./h.ts";`,
      `export { i } from "./i.ts";`,
      `export type { J } from "./j.ts";`,
      `export * as k from "./k.ts";`,
      `const l = await import("./l.ts");`,
      "const m = await import(`./m.ts`);",
      `type N = typeof import("./n.ts");`,
      `const o = require("./o.ts");`,
      `import {`,
      `  p1,`,
      `  p2,`,
      `} from "./p.ts";`,
      `import q from "node:fs";`,
    ].join("\n");
    expect(scanSource(src).imports.sort()).toEqual(
      ["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts", "./f.ts", "./h.ts", "./i.ts", "./j.ts", "./k.ts", "./l.ts", "./m.ts", "./n.ts", "./o.ts", "./p.ts", "node:fs"].sort(),
    );
  });

  test("ignores imports in comments and string literals, and is not fooled by regex literals", () => {
    const src = [
      `// import x from "../protocols/imap/index.ts";`,
      `/* import y from "../src/server.ts"; */`,
      `const s = 'import z from "../src/log.ts"';`,
      "const t = `export * from \"../web/src/api.ts\"`;",
      `const re = /["'/]/g; const u = "x".replace(re, "");`,
      `const v = 10 / 2; const w = "don't";`,
      `import real from "./real.ts";`,
    ].join("\n");
    expect(scanSource(src).imports).toEqual(["./real.ts"]);
  });

  test("finds SQL in string and template literals, not in prose or IMAP commands", () => {
    // "¦" keeps this file's own literals from looking like SQL to the repository scan
    const src = [
      `const a = "SEL¦ECT id FR¦OM items WHERE folder_id = ?";`,
      "const b = `INS¦ERT INTO flags (item_id, flag) VALUES (${1}, ?)`;",
      `const c = "UPD¦ATE folders SET name = ?";`,
      `const d = 'DEL¦ETE FROM expunged';`,
      "const e = `CRE¦ATE TABLE t (x INTEGER)`;",
      `const f = "ALT¦ER TABLE items ADD COLUMN x INTEGER";`,
      `const g = "PRA¦GMA journal_mode";`,
      `const h = "Select a folder from the list";`,
      `const i = "a2 SELECT INBOX\\r\\na3 UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])";`,
      `const j = "Delete from the server? Update the settings to set it.";`,
      `// SEL¦ECT id FR¦OM items in a comment`,
    ]
      .join("\n")
      .replaceAll("¦", "");
    expect(scanSource(src).sql.map((h) => h.line)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

/** One file with the given imports, checked alone. */
function rulesOf(file: string, imports: string[], sql: FileImports["sql"] = []): Rule[] {
  return checkLayers([{ file, imports, sql }]).map((v) => v.rule);
}

describe("each rule fires on a deliberate break", () => {
  test("storage/ imports a protocol or the kernel", () => {
    expect(rulesOf("storage/store.ts", ["../protocols/imap/mime.ts"])).toEqual(["storage"]);
    expect(rulesOf("storage/directory.ts", ["../src/runtime.ts"])).toEqual(["storage"]);
    expect(rulesOf("storage/migrations/0001.ts", ["../../src/log.ts"])).toEqual(["storage"]);
    // allowed: itself, the mail library, packages
    expect(rulesOf("storage/store.ts", ["./db.ts", "../mail/parse.ts", "@libsql/client", "node:fs"])).toEqual([]);
  });

  test("a protocol imports another protocol", () => {
    expect(rulesOf("protocols/imap/fetch.ts", ["../pop3/maildrop.ts"])).toEqual(["protocol"]);
    expect(rulesOf("protocols/smtp/inbound.ts", ["../http/webmail/oof.ts"])).toEqual(["protocol"]);
    expect(rulesOf("protocols/http/eas/sync.ts", ["../../imap/search.ts"])).toEqual(["protocol"]);
    // allowed: inside one family (webmail, eas and autodiscover share protocols/http), the kernel, the store API
    expect(rulesOf("protocols/http/eas/sync.ts", ["../webmail/mime.ts", "../headers.ts", "../../../src/log.ts", "../../../storage/api.ts"])).toEqual([]);
    // the registry in protocols/ is not a protocol
    expect(rulesOf("protocols/index.ts", ["./smtp/index.ts", "./imap/index.ts"])).toEqual([]);
  });

  test("a protocol imports the store's internals", () => {
    expect(rulesOf("protocols/pop3/readahead.ts", ["../../storage/blobstore.ts"])).toEqual(["internals"]);
    expect(rulesOf("protocols/imap/fetch.ts", ["../../storage/db.ts"])).toEqual(["internals"]);
    expect(rulesOf("protocols/imap/fetch.ts", ["../../storage/migrations/index.ts"])).toEqual(["internals"]);
    expect(rulesOf("protocols/http/eas/handler.ts", ["../../../storage/eas-store.ts", "../../../storage/api.ts"])).toEqual([]);
  });

  test("mail/ imports anything of the project", () => {
    expect(rulesOf("mail/parse.ts", ["../storage/api.ts"])).toEqual(["mail"]);
    expect(rulesOf("mail/date.ts", ["../src/log.ts"])).toEqual(["mail"]);
    expect(rulesOf("mail/parse.ts", ["./headers.ts", "./types.ts", "node:buffer"])).toEqual([]);
  });

  test("web/ imports server code", () => {
    expect(rulesOf("web/src/api.ts", ["../../protocols/http/webmail/mime.ts"])).toEqual(["web"]);
    expect(rulesOf("web/src/list.ts", ["../../storage/api.ts"])).toEqual(["web"]);
    expect(rulesOf("web/src/list.ts", ["../../mail/date.ts"])).toEqual(["web"]);
    // allowed: itself, the one shared API-types module, packages
    expect(WEB_SHARED_API_TYPES).toBe("protocols/http/webmail/api-types.ts");
    expect(rulesOf("web/src/api.ts", ["./util.ts", "../../protocols/http/webmail/api-types.ts", "dompurify"])).toEqual([]);
    // the shared module itself must not lead into the server
    expect(rulesOf("protocols/http/webmail/api-types.ts", ["./mime.ts"])).toEqual(["web"]);
    expect(rulesOf("protocols/http/webmail/api-types.ts", ["../../../mail/types.ts"])).toEqual(["web"]);
  });

  test("src/ imports scripts/ or tests/", () => {
    expect(rulesOf("src/cli/bench.ts", ["../../scripts/bench/store-throughput.ts"])).toEqual(["src"]);
    expect(rulesOf("src/server.ts", ["../tests/helpers/server.ts"])).toEqual(["src"]);
    expect(rulesOf("src/server.ts", ["../storage/api.ts", "../protocols/index.ts", "./log.ts"])).toEqual([]);
  });

  test("SQL outside storage/", () => {
    const sql = [{ line: 3, text: "(a query)" }];
    expect(rulesOf("protocols/imap/search.ts", [], sql)).toEqual(["sql"]);
    expect(rulesOf("src/cli/user.ts", ["../../storage/api.ts"], sql)).toEqual(["sql"]);
    expect(rulesOf("web/src/list.ts", [], sql)).toEqual(["sql"]);
    expect(rulesOf("mail/parse.ts", [], sql)).toEqual(["sql"]);
    // a test or script that does not test the store
    expect(rulesOf("tests/imap/fetch.test.ts", ["../helpers/server.ts"], sql)).toEqual(["sql"]);
    // allowed: the store itself, its tests, a script or test that imports the store module it measures
    expect(rulesOf("storage/messages.ts", [], sql)).toEqual([]);
    expect(rulesOf("tests/storage/migrations.test.ts", [], sql)).toEqual([]);
    expect(rulesOf("tests/eas/eas-store.test.ts", ["../../storage/db.ts"], sql)).toEqual([]);
    expect(rulesOf("scripts/torture/soak-lib.ts", ["../../storage/store.ts"], sql)).toEqual([]);
    // generated bundles are not scanned
    expect(rulesOf("protocols/http/webmail/assets.generated.ts", [], sql)).toEqual([]);
  });

  test("a clean set of files passes and every violation names file and target", () => {
    const files: FileImports[] = [
      { file: "storage/store.ts", imports: ["./db.ts", "../mail/parse.ts"] },
      { file: "protocols/imap/fetch.ts", imports: ["../../storage/api.ts", "../../mail/parse.ts", "../../src/log.ts"] },
      { file: "web/src/main.ts", imports: ["./api.ts"] },
      { file: "mail/parse.ts", imports: ["./headers.ts"] },
    ];
    expect(checkLayers(files)).toEqual([]);
    const broken = checkLayers([...files, { file: "storage/folders.ts", imports: ["../protocols/imap/mailbox.ts"] }]);
    expect(broken).toHaveLength(1);
    expect(formatViolation(broken[0]!)).toBe(
      "[storage] storage/folders.ts -> ../protocols/imap/mailbox.ts: storage/ may import only storage/ and mail/, not protocols/imap/mailbox.ts",
    );
  });
});
