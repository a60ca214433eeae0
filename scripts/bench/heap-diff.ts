/**
 * Compares two V8-format heap snapshots (eas-server.ts SNAPSHOT) and prints
 * what the second holds more of, per unit (e.g. per held Ping): nodes
 * grouped by type and name (a closure's function name, an object's class),
 * with their count and self size. Benchmark tooling only.
 *
 *   bun scripts/bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--per 1000] [--top 60]
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function groups(file: string): Map<string, { n: number; size: number }> {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf("type");
  const iName = f.indexOf("name");
  const iSize = f.indexOf("self_size");
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { n: number; size: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? "?";
    let name = s.strings[s.nodes[i + iName]!] ?? "";
    if (type === "string" || type === "concatenated string" || type === "sliced string") name = "";
    const key = `${type} ${name.slice(0, 60)}`;
    const g = out.get(key) ?? { n: 0, size: 0 };
    g.n++;
    g.size += s.nodes[i + iSize]!;
    out.set(key, g);
  }
  return out;
}

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const [a, b] = args.filter((x, i) => !x.startsWith("--") && !args[i - 1]?.startsWith("--"));
if (!a || !b) throw new Error("usage: heap-diff.ts BEFORE AFTER [--per N] [--top N]");
const per = opt("per", 1);
const top = opt("top", 60);
const before = groups(a);
const after = groups(b);
const rows = [...after].map(([k, v]) => {
  const o = before.get(k) ?? { n: 0, size: 0 };
  return { k, n: (v.n - o.n) / per, size: (v.size - o.size) / per };
});
const total = rows.reduce((t, r) => ({ n: t.n + r.n, size: t.size + r.size }), { n: 0, size: 0 });
console.log(`per unit: ${total.n.toFixed(1)} nodes, ${total.size.toFixed(0)} bytes (self sizes)`);
for (const r of rows.sort((x, y) => y.size - x.size).slice(0, top)) console.log(`${r.size.toFixed(0).padStart(7)} B ${r.n.toFixed(2).padStart(8)}  ${r.k}`);
