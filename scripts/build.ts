/**
 * Builds the single executable with `bun build --compile` (Bun.build API).
 *
 *   bun scripts/build.ts --target=linux-x64     -> dist/pillarbox
 *   bun scripts/build.ts --target=linux-arm64   -> dist/pillarbox-linux-arm64
 *   --outfile=PATH writes elsewhere (tests build into a temp dir)
 *
 * libsql picks its native addon with a dynamic `require(\`@libsql/${target}\`)`
 * that the bundler cannot follow; the plugin below rewrites it to the addon
 * for the build target, embedded as a file that src/native-addon.ts copies
 * once into a cache dir (the data dir's .cache/ first) and loads on the first
 * database call: `--version` loads nothing, and $TMPDIR need not be writable. For arm64 the Bun runtime and the libsql
 * addon come from their npm packages (`npm pack`), the only network used.
 *
 * Web client: `scripts/build-web.ts` (webmail) bundles web/src and embeds it
 * in a generated module the server imports, so the binary carries it. It runs
 * as the npm `prebuild` hook and, so that a direct `bun scripts/build.ts` is
 * never stale, here too (it is idempotent: a no-op when nothing changed).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const argTarget = process.argv.find((a) => a.startsWith("--target="))?.slice("--target=".length) ?? "linux-x64";
const TARGETS = {
  "linux-x64": { bun: "bun-linux-x64", libsql: "@libsql/linux-x64-gnu", bunPkg: "@oven/bun-linux-x64", out: "dist/pillarbox" },
  "linux-arm64": { bun: "bun-linux-arm64", libsql: "@libsql/linux-arm64-gnu", bunPkg: "@oven/bun-linux-aarch64", out: "dist/pillarbox-linux-arm64" },
} as const;
if (!(argTarget in TARGETS)) {
  console.error(`build: unknown --target=${argTarget} (use linux-x64 or linux-arm64)`);
  process.exit(2);
}
const target = TARGETS[argTarget as keyof typeof TARGETS];

function pkgVersion(name: string): string {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}

/** Downloads one npm package tarball with `npm pack` (npm registry only) and unpacks it; returns the package dir. */
function npmFetch(spec: string, into: string): string {
  mkdirSync(into, { recursive: true });
  const out = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", into], { cwd: into, encoding: "utf8" }).trim().split("\n").pop()!;
  const tgz = join(into, out);
  const dir = join(into, out.replace(/\.tgz$/, ""));
  mkdirSync(dir, { recursive: true });
  execFileSync("tar", ["-xzf", tgz, "-C", dir, "--strip-components=1"]);
  rmSync(tgz);
  return dir;
}

const cache = join(ROOT, ".tmp", "build-cache");
const bunVersion = pkgVersion("bun");
const libsqlVersion = pkgVersion("libsql");

/** The libsql addon for the target: from node_modules when installed (x64), else fetched from npm. */
function libsqlAddon(): string {
  const local = join(ROOT, "node_modules", target.libsql, "index.node");
  if (existsSync(local)) return local;
  const dir = join(cache, `${target.libsql.replace("/", "+")}@${libsqlVersion}`);
  const addon = join(dir, "index.node");
  if (!existsSync(addon)) {
    console.log(`fetching ${target.libsql}@${libsqlVersion} from the npm registry`);
    const tmp = mkdtempSync(join(tmpdir(), "pb-build-"));
    const pkgDir = npmFetch(`${target.libsql}@${libsqlVersion}`, tmp);
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(pkgDir, dir);
    rmSync(tmp, { recursive: true, force: true });
  }
  return addon;
}

/** The Bun runtime to embed for cross builds: from npm, never from Bun's download host. */
function bunRuntime(): string | undefined {
  if (argTarget === "linux-x64" && process.arch === "x64") return undefined; // the running Bun
  const dir = join(cache, `${target.bunPkg.replace("/", "+")}@${bunVersion}`);
  const bin = join(dir, "bin", "bun");
  if (!existsSync(bin)) {
    console.log(`fetching ${target.bunPkg}@${bunVersion} from the npm registry`);
    const tmp = mkdtempSync(join(tmpdir(), "pb-build-"));
    const pkgDir = npmFetch(`${target.bunPkg}@${bunVersion}`, tmp);
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(pkgDir, dir);
    rmSync(tmp, { recursive: true, force: true });
  }
  chmodSync(bin, 0o755);
  return bin;
}

// ---- web client (see header)
const webBuild = join(ROOT, "scripts", "build-web.ts");
if (existsSync(webBuild)) execFileSync(process.execPath, [webBuild], { cwd: ROOT, stdio: "inherit" });

const addon = libsqlAddon();
const executablePath = bunRuntime();

const nativeLoader = join(ROOT, "src", "native-addon.ts");
const addonHash = createHash("sha256").update(readFileSync(addon)).digest("hex");

const libsqlPlugin: Bun.BunPlugin = {
  name: "libsql-embed-native-addon",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/](index|promise)\.js$/ }, (args) => {
      const src = readFileSync(args.path, "utf8");
      const dynamic = /require\(`@libsql\/\$\{target\}`\)/g;
      if (!dynamic.test(src)) throw new Error(`build: libsql's addon lookup changed in ${args.path}; update scripts/build.ts`);
      // The addon is embedded as a plain file (loader below) and loaded by src/native-addon.ts on the
      // first database call, from a cache dir it chooses (not Bun's $TMPDIR extraction).
      const lazy = `require(${JSON.stringify(nativeLoader)}).lazyNativeAddon(require(${JSON.stringify(addon)}), ${JSON.stringify(addonHash)})`;
      return { contents: src.replace(dynamic, lazy), loader: "js" };
    });
  },
};

/** The commit built: PILLARBOX_BUILD_COMMIT (e.g. a Docker build without .git), else git, else "unknown". */
function buildCommit(): string {
  if (process.env.PILLARBOX_BUILD_COMMIT) return process.env.PILLARBOX_BUILD_COMMIT;
  try {
    const git = (args: string[]) => execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const commit = git(["rev-parse", "--short=10", "HEAD"]);
    return git(["status", "--porcelain", "--untracked-files=no"]) ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}

mkdirSync(join(ROOT, "dist"), { recursive: true });
const outArg = process.argv.find((a) => a.startsWith("--outfile="))?.slice("--outfile=".length);
const outfile = outArg ? resolve(outArg) : join(ROOT, target.out);
mkdirSync(dirname(outfile), { recursive: true });
const started = performance.now();
const result = await Bun.build({
  entrypoints: [join(ROOT, "src", "main.ts")],
  compile: {
    target: target.bun as Bun.Build.CompileTarget,
    outfile,
    ...(executablePath ? { executablePath } : {}),
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
  minify: true,
  // Precompiled bytecode: start-up goes from ~300 ms to ~100 ms (no parsing of the bundle at start); ESM needs format "esm".
  bytecode: true,
  // Code splitting: what is imported on first use (the web stack, the admin commands, mailauth...)
  // becomes its own embedded chunk, read only when loaded; without it the whole bundle's bytecode is
  // read at start (x64, idle serve: 98 -> 90 MB RSS; `--version` 81 -> 70 MB).
  splitting: true,
  format: "esm",
  sourcemap: "linked",
  plugins: [libsqlPlugin],
  // The native addon is embedded as a file (its path in $bunfs), not required by Bun (which would extract it to $TMPDIR).
  loader: { ".node": "file" },
  // `pillarbox --version` (src/version.ts): the commit and the build time, fixed into the binary.
  define: { "process.env.LIBSQL_JS_DEV": "undefined", PILLARBOX_BUILD_COMMIT: JSON.stringify(buildCommit()), PILLARBOX_BUILD_DATE: JSON.stringify(new Date().toISOString().replace(/\.\d{3}Z$/, "Z")) },
});
if (!result.success) {
  for (const l of result.logs) console.error(l);
  process.exit(1);
}
// A linked source map is written next to the binary; it is not needed to run it.
for (const f of readdirSync(dirname(outfile))) if (f.endsWith(".map")) rmSync(join(dirname(outfile), f));
const size = statSync(outfile).size;
console.log(`built ${outArg ? outfile : target.out} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
