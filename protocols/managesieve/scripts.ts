/**
 * Script commands (RFC 5804 §2.5–§2.12): HAVESPACE, PUTSCRIPT, LISTSCRIPTS,
 * SETACTIVE, GETSCRIPT, DELETESCRIPT, RENAMESCRIPT, CHECKSCRIPT. Scripts live
 * in the SieveStore (storage/filter-api.ts); every script is compiled with
 * the same compiler delivery uses before it is stored or activated.
 */
import { Buffer } from "node:buffer";
import { StoreError } from "../../storage/api.ts";
import type { SieveError } from "../../src/sieve/types.ts";
import type { Token } from "./parser.ts";
import { utf8 } from "./parser.ts";
import { response, str } from "./response.ts";
import { registerCommands, type SieveSession } from "./session.ts";

/** Octets of a script name (RFC 5804 §1.6 leaves the limit to the server; Pigeonhole allows 256 characters). */
export const MAX_NAME_OCTETS = 512;

/**
 * RFC 5804 §1.6: a script name is a non-empty UTF-8 string without control
 * characters (U+0000–U+001F, U+007F–U+009F) and without the line and
 * paragraph separators (U+2028, U+2029). Returns the name or an error text.
 */
export function scriptName(t: Token | undefined, allowEmpty = false): { name: string } | { error: string } {
  if (!t || t.kind !== "string") return { error: "A script name must be a string" };
  const name = utf8(t.bytes);
  if (name === null) return { error: "A script name must be valid UTF-8" };
  if (name === "" && !allowEmpty) return { error: "A script name cannot be empty" };
  if (t.bytes.length > MAX_NAME_OCTETS) return { error: `A script name is at most ${MAX_NAME_OCTETS} octets` };
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return { error: "A script name cannot contain control characters" };
  return { name };
}

/** Errors or warnings put in one response (the output stays bounded whatever the compiler returns). */
const MAX_REPORTED = 20;
const MAX_REPORT_OCTETS = 4096;

/** "line N: what" for every error or warning, as clients show them; bounded. */
export function describe(errors: readonly SieveError[]): string {
  const lines = errors.slice(0, MAX_REPORTED).map((e) => {
    const text = /^line \d+/i.test(e.message) ? e.message : `line ${e.line}: ${e.message}`;
    return text.length > 512 ? text.slice(0, 509) + "..." : text;
  });
  if (errors.length > MAX_REPORTED) lines.push(`(${errors.length - MAX_REPORTED} more)`);
  let out = lines.join("\r\n");
  if (Buffer.byteLength(out) > MAX_REPORT_OCTETS) out = Buffer.from(out).subarray(0, MAX_REPORT_OCTETS).toString("utf8").replace(/\uFFFD$/, "") + "...";
  return out;
}

/** A store failure as a NO with its RFC 5804 §1.3 response code. */
function storeFailure(s: SieveSession, err: unknown, what: string): void {
  if (err instanceof StoreError) {
    switch (err.code) {
      case "NONEXISTENT":
        return s.no("There is no script by that name", "NONEXISTENT");
      case "ALREADYEXISTS":
        return s.no("A script by that name already exists", "ALREADYEXISTS");
      case "LIMIT":
        return s.no(err.message || "Quota exceeded", "QUOTA");
      case "CANNOT":
        if (what === "delete") return s.no("The active script cannot be deleted; deactivate it first", "ACTIVE");
        return s.no(err.message);
      default:
        break;
    }
  }
  // Anything else (database busy, a network blip to PostgreSQL): temporary, the client may retry.
  s.log.warn("managesieve store call failed", { what, account: s.account?.email, error: err instanceof Error ? err.message : String(err) });
  s.no("The script store is busy; try again later", "TRYLATER");
}

type Content = { text: string } | { refused: true };

/** The script argument of PUTSCRIPT/CHECKSCRIPT: a string within the size limit, UTF-8. Sends the NO itself. */
function content(s: SieveSession, t: Token | undefined, oversize: boolean): Content {
  const max = s.deps.options.maxScriptBytes;
  if (oversize || (t?.kind === "string" && t.bytes.length > max)) {
    s.no(`Scripts are limited to ${max} octets`, "QUOTA/MAXSIZE");
    return { refused: true };
  }
  if (!t || t.kind !== "string") {
    s.bad("The script must be a string (a literal {n+})");
    return { refused: true };
  }
  const text = utf8(t.bytes);
  if (text === null) {
    // The compiler names the line of the first bad sequence (RFC 5228 §2.4.2: scripts are UTF-8).
    if (check(s, t.bytes)) s.no("The script is not valid UTF-8");
    return { refused: true };
  }
  return { text };
}

/** Compiles; answers NO with the errors, or returns the warnings (possibly none). Null: refused (already answered). */
function check(s: SieveSession, text: string | Uint8Array): SieveError[] | null {
  let r;
  try {
    r = s.deps.compile(text);
  } catch (err) {
    s.log.error("managesieve: the Sieve compiler failed", { error: err instanceof Error ? err.message : String(err) });
    s.no("The script could not be checked");
    return null;
  }
  if (!r.ok) {
    s.no(describe(r.errors) || "The script is not valid");
    return null;
  }
  return r.warnings;
}

/** RFC 5804 §2.6: OK, or OK (WARNINGS) with the warnings in words. */
function okWithWarnings(s: SieveSession, warnings: SieveError[], text: string): void {
  if (warnings.length) s.ok(describe(warnings), "WARNINGS");
  else s.ok(text);
}

/** True when storing `name` would exceed the script count quota (it is new and the account is full). */
async function overScriptQuota(s: SieveSession, name: string): Promise<boolean> {
  const list = await s.deps.store.listScripts(s.account!.id);
  return !list.some((x) => x.name === name) && list.length >= s.deps.options.maxScripts;
}

registerCommands({
  HAVESPACE: {
    state: "auth",
    async fn(s, args) {
      if (args.length !== 2) return s.bad('Syntax: HAVESPACE "name" size');
      const n = scriptName(args[0]);
      if ("error" in n) return s.no(n.error);
      const size = args[1]!;
      if (size.kind !== "atom" || !/^\d{1,10}$/.test(size.value)) return s.bad("HAVESPACE needs a size in octets");
      const max = s.deps.options.maxScriptBytes;
      // RFC 5804 §2.5.
      if (Number(size.value) > max) return s.no(`Scripts are limited to ${max} octets`, "QUOTA/MAXSIZE");
      try {
        if (await overScriptQuota(s, n.name)) return s.no(`At most ${s.deps.options.maxScripts} scripts`, "QUOTA/MAXSCRIPTS");
      } catch (err) {
        return storeFailure(s, err, "havespace");
      }
      s.ok("Putscript would succeed");
    },
  },
  PUTSCRIPT: {
    state: "auth",
    async fn(s, args, oversize) {
      if (args.length !== 2) return s.bad('Syntax: PUTSCRIPT "name" {size+} script');
      const n = scriptName(args[0]);
      if ("error" in n) return s.no(n.error);
      const c = content(s, args[1], oversize);
      if ("refused" in c) return;
      const warnings = check(s, c.text);
      if (!warnings) return;
      const o = s.deps.options;
      try {
        if (await overScriptQuota(s, n.name)) return s.no(`At most ${o.maxScripts} scripts`, "QUOTA/MAXSCRIPTS");
        await s.deps.store.putScript(s.account!.id, n.name, c.text, { maxScripts: o.maxScripts, maxBytes: o.maxScriptBytes });
      } catch (err) {
        return storeFailure(s, err, "put");
      }
      s.log.info("managesieve: script stored", { account: s.account!.email, script: n.name, size: Buffer.byteLength(c.text) });
      okWithWarnings(s, warnings, "Script stored");
    },
  },
  CHECKSCRIPT: {
    state: "auth",
    fn(s, args, oversize) {
      if (args.length !== 1) return s.bad("Syntax: CHECKSCRIPT {size+} script");
      const c = content(s, args[0], oversize);
      if ("refused" in c) return;
      const warnings = check(s, c.text);
      if (warnings) okWithWarnings(s, warnings, "Script is valid");
    },
  },
  LISTSCRIPTS: {
    state: "auth",
    async fn(s, args) {
      if (args.length) return s.bad("LISTSCRIPTS takes no arguments");
      let list;
      try {
        list = await s.deps.store.listScripts(s.account!.id);
      } catch (err) {
        return storeFailure(s, err, "list");
      }
      // RFC 5804 §2.7: one name per line, the active one followed by ACTIVE.
      const lines = list.map((x) => `${str(x.name)}${x.active ? " ACTIVE" : ""}\r\n`);
      s.send(lines.join("") + response("OK", "Listscripts completed"));
    },
  },
  SETACTIVE: {
    state: "auth",
    async fn(s, args) {
      if (args.length !== 1) return s.bad('Syntax: SETACTIVE "name"');
      const n = scriptName(args[0], true);
      if ("error" in n) return s.no(n.error);
      const id = s.account!.id;
      try {
        if (n.name === "") {
          // RFC 5804 §2.8: the empty name deactivates every script.
          await s.deps.store.setActive(id, null);
          s.log.info("managesieve: scripts deactivated", { account: s.account!.email });
          return s.ok("No script is active");
        }
        const text = await s.deps.store.getScript(id, n.name);
        if (text === null) return s.no("There is no script by that name", "NONEXISTENT");
        // A script stored before an extension was dropped must not become the one delivery runs.
        if (!check(s, text)) return;
        await s.deps.store.setActive(id, n.name);
      } catch (err) {
        return storeFailure(s, err, "setactive");
      }
      s.log.info("managesieve: script activated", { account: s.account!.email, script: n.name });
      s.ok("Script activated");
    },
  },
  GETSCRIPT: {
    state: "auth",
    async fn(s, args) {
      if (args.length !== 1) return s.bad('Syntax: GETSCRIPT "name"');
      const n = scriptName(args[0]);
      if ("error" in n) return s.no(n.error);
      let text;
      try {
        text = await s.deps.store.getScript(s.account!.id, n.name);
      } catch (err) {
        return storeFailure(s, err, "get");
      }
      if (text === null) return s.no("There is no script by that name", "NONEXISTENT");
      // RFC 5804 §2.9: the script as a literal, then OK; one write so a client reading octets gets it whole.
      const body = Buffer.from(text, "utf8");
      s.send(Buffer.concat([Buffer.from(`{${body.length}}\r\n`), body, Buffer.from("\r\n" + response("OK", "Getscript completed"))]));
    },
  },
  DELETESCRIPT: {
    state: "auth",
    async fn(s, args) {
      if (args.length !== 1) return s.bad('Syntax: DELETESCRIPT "name"');
      const n = scriptName(args[0]);
      if ("error" in n) return s.no(n.error);
      const id = s.account!.id;
      try {
        // RFC 5804 §2.10: the active script cannot be deleted (ACTIVE).
        const info = (await s.deps.store.listScripts(id)).find((x) => x.name === n.name);
        if (!info) return s.no("There is no script by that name", "NONEXISTENT");
        if (info.active) return s.no("The active script cannot be deleted; deactivate it first", "ACTIVE");
        if (!(await s.deps.store.deleteScript(id, n.name))) return s.no("There is no script by that name", "NONEXISTENT");
      } catch (err) {
        return storeFailure(s, err, "delete");
      }
      s.log.info("managesieve: script deleted", { account: s.account!.email, script: n.name });
      s.ok("Script deleted");
    },
  },
  RENAMESCRIPT: {
    state: "auth",
    async fn(s, args) {
      if (args.length !== 2) return s.bad('Syntax: RENAMESCRIPT "old" "new"');
      const from = scriptName(args[0]);
      if ("error" in from) return s.no(from.error);
      const to = scriptName(args[1]);
      if ("error" in to) return s.no(to.error);
      try {
        // RFC 5804 §2.11.1: the active flag moves with the script.
        await s.deps.store.renameScript(s.account!.id, from.name, to.name);
      } catch (err) {
        return storeFailure(s, err, "rename");
      }
      s.ok("Script renamed");
    },
  },
});
