/**
 * What build this is (found item 9): the package version, the git commit and
 * the build date. The compiled binary gets the commit and date from
 * scripts/build.ts (`define` replaces the two identifiers below at bundle
 * time); run from a source checkout they come from git; otherwise they are
 * "unknown". Read once, lazily: `--version` and the "pillarbox serving" line
 * use it, nothing on a hot path.
 */
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import pkg from "../package.json" with { type: "json" };

// Replaced by scripts/build.ts (Bun.build `define`); undeclared identifiers when run from source.
declare const PILLARBOX_BUILD_COMMIT: string | undefined;
declare const PILLARBOX_BUILD_DATE: string | undefined;

export const VERSION: string = pkg.version;

export interface BuildInfo {
  version: string;
  /** Short commit hash, with "-dirty" when run from a checkout with local changes; "unknown" when not known. */
  commit: string;
  /** ISO 8601 build time (binary) or commit time (source); "unknown" when not known. */
  date: string;
  /** Where commit and date come from. */
  source: "build" | "git" | "unknown";
}

let cached: BuildInfo | null = null;

function fromDefines(): BuildInfo | null {
  const commit = typeof PILLARBOX_BUILD_COMMIT === "string" ? PILLARBOX_BUILD_COMMIT : "";
  const date = typeof PILLARBOX_BUILD_DATE === "string" ? PILLARBOX_BUILD_DATE : "";
  if (!commit && !date) return null;
  return { version: VERSION, commit: commit || "unknown", date: date || "unknown", source: "build" };
}

/** From the checkout this file lives in; null when git or the repository is not there. */
function fromGit(): BuildInfo | null {
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch {
    return null;
  }
  if (dir.startsWith("/$bunfs") || dir.includes("~BUN")) return null; // inside a compiled binary
  const git = (args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 3000 }).trim();
  try {
    const commit = git(["rev-parse", "--short=10", "HEAD"]);
    const date = new Date(git(["log", "-1", "--format=%cI", "HEAD"])).toISOString().replace(/\.\d{3}Z$/, "Z");
    // Only tracked files count: a test's scratch files in the tree do not make a build "dirty".
    const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
    return { version: VERSION, commit: dirty ? `${commit}-dirty` : commit, date, source: "git" };
  } catch {
    return null;
  }
}

export function buildInfo(): BuildInfo {
  cached ??= fromDefines() ?? fromGit() ?? { version: VERSION, commit: "unknown", date: "unknown", source: "unknown" };
  return cached;
}

/** The `--version` line, e.g. "pillarbox 0.1.0 (commit 1a2b3c4d5e, built 2026-12-07T16:10:00Z)". */
export function versionLine(): string {
  const b = buildInfo();
  const when = b.source === "git" ? `committed ${b.date}, run from source` : `built ${b.date}`;
  return `pillarbox ${b.version} (commit ${b.commit}, ${when})`;
}
