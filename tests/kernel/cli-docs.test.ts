/**
 * Every command `pillarbox --help` lists is documented in README.md or
 * docs/*.md (issue 18, found item 11: the README omitted the `device`
 * commands). A command "group sub" counts as documented when a line holds
 * `pillarbox group` and `sub` as a word (README writes several on one line:
 * `pillarbox user list | passwd EMAIL | remove EMAIL`).
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { commands } from "../../src/cli/commands.ts";
import { mainHelp } from "../../src/cli/run.ts";
import { REPO_ROOT } from "../helpers/proc.ts";

const docs = [join(REPO_ROOT, "README.md"), ...readdirSync(join(REPO_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(REPO_ROOT, "docs", f))];
const lines = docs.flatMap((f) => readFileSync(f, "utf8").split("\n"));

function documented(name: string): boolean {
  const [group, sub] = name.split(" ");
  const word = (w: string) => new RegExp(`(^|[\\s|\`])${w.replace(/[-]/g, "\\-")}($|[\\s|\`])`);
  return lines.some((l) => {
    const at = l.indexOf(`pillarbox ${group}`);
    if (at < 0 || !word(group!).test(l.slice(at + "pillarbox".length))) return false;
    return sub === undefined || word(sub).test(l.slice(at + `pillarbox ${group}`.length));
  });
}

test("every command in pillarbox --help is documented in README.md or docs/", () => {
  const help = mainHelp();
  const visible = commands.filter((c) => !c.hidden);
  expect(visible.length).toBeGreaterThan(10);
  for (const c of visible) expect(help).toContain(c.name);
  const missing = visible.map((c) => c.name).filter((n) => !documented(n));
  expect(missing).toEqual([]);
});

test("the device commands are in the README's command list", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  for (const sub of ["list", "remove", "wipe", "policy"]) expect(readme).toMatch(new RegExp(`^pillarbox device ${sub}\\b`, "m"));
});
