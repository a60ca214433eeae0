/**
 * Sieve (RFC 5228 and the extensions in SIEVE_EXTENSIONS): compile a script
 * once (./compile.ts), run it per message and recipient (./interpret.ts).
 * The delivery filter, ManageSieve, the webmail and the CLI import from here.
 */
import type { SieveEngine } from "./types.ts";
import { compile } from "./compile.ts";
import { runSieve } from "./interpret.ts";

export { compile as compileSieve, formatSieveError } from "./compile.ts";
export { runSieve } from "./interpret.ts";
export * from "./types.ts";

export const sieveEngine: SieveEngine = {
  compile: (text, opts) => compile(text, opts),
  run: (script, input) => runSieve(script, input),
};
