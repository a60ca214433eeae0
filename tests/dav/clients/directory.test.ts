/**
 * The global address list as a client sees it: vdirsyncer pulls the
 * read-only directory address book (/dav/addressbooks/<user>/directory/)
 * into a folder, khard lists and searches it, and a local edit pushed back
 * is refused by the server without losing anything. Radicale has no global
 * address list, so this scenario runs on Pillarbox alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertClients, clientHome, clientSkip, describeRun, runClient, type ClientHome, type ClientName } from "../../helpers/dav-clients.ts";
import { curl } from "./curl.ts";
import { startPillarboxPeer, type Peer } from "./peers.ts";

const NEEDS: ClientName[] = ["vdirsyncer", "khard", "curl"];
const SKIP = clientSkip(NEEDS) || process.env.PILLARBOX_DAV_CLIENT_PEER === "radicale";

describe.skipIf(SKIP)("the directory address book through vdirsyncer and khard (Pillarbox)", () => {
  let peer: Peer;
  let home: ClientHome;
  beforeAll(async () => {
    assertClients(NEEDS);
    peer = await startPillarboxPeer();
    home = clientHome();
  }, 30_000);
  afterAll(async () => {
    home?.cleanup();
    await peer?.close();
  });

  test("vdirsyncer pulls every account of the domain, khard finds them, a local edit is refused by the server", async () => {
    const q = JSON.stringify;
    const cfg = home.path("vdirsyncer.conf");
    writeFileSync(
      cfg,
      `[general]
status_path = ${q(home.path("status") + "/")}

[pair gal]
a = "gal_local"
b = "gal_remote"
collections = ["directory"]

[storage gal_local]
type = "filesystem"
path = ${q(home.path("gal") + "/")}
fileext = ".vcf"

[storage gal_remote]
type = "carddav"
url = ${q(`${peer.origin}/`)}
username = ${q(peer.user)}
password = ${q(peer.password)}
verify = ${q(peer.caFile)}
`,
    );
    const vds = (args: string[]) => runClient(home, "vdirsyncer", ["-c", cfg, ...args], { input: "y\n".repeat(4), timeoutMs: 30_000 });
    const disc = await vds(["discover"]);
    expect(disc.code, describeRun(disc)).toBe(0);
    const sync = await vds(["sync"]);
    expect(sync.code, describeRun(sync)).toBe(0);
    const dir = join(home.dir, "gal", "directory");
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(2);
    const texts = files.map((f) => readFileSync(join(dir, f), "utf8"));
    expect(texts.some((t) => t.includes("FN:Alice Example") && t.includes("alice@example.org"))).toBe(true);
    expect(texts.some((t) => t.includes("FN:Bob Example") && t.includes("bob@example.org"))).toBe(true);

    const khardCfg = home.path("khard.conf");
    writeFileSync(khardCfg, `[addressbooks]\n[[directory]]\npath = ${dir}\n\n[general]\ndefault_action = list\neditor = /bin/false\nmerge_editor = /bin/false\n`);
    const list = await runClient(home, "khard", ["-c", khardCfg, "list", "--parsable"]);
    expect(list.code, describeRun(list)).toBe(0);
    expect(list.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[1]).sort()).toEqual(["Alice Example", "Bob Example"]);
    const email = await runClient(home, "khard", ["-c", khardCfg, "email", "--parsable", "--remove-first-line", "bob"]);
    expect(email.code, describeRun(email)).toBe(0);
    expect(email.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0])).toEqual(["bob@example.org"]);

    // A local edit: the server refuses the PUT (read-only directory), vdirsyncer reports it, nothing is lost.
    const bobFile = join(dir, files[texts.findIndex((t) => t.includes("FN:Bob Example"))]!);
    const original = readFileSync(bobFile, "utf8");
    writeFileSync(bobFile, original.replace("FN:Bob Example", "FN:Bob Edited Locally"));
    const push = await vds(["sync"]);
    expect(push.code).not.toBe(0);
    expect(push.stdout + push.stderr).toMatch(/403|Forbidden/i);
    expect(readFileSync(bobFile, "utf8")).toContain("FN:Bob Edited Locally");
    const remote = await curl(peer, "GET", `${peer.addressbookHome}directory/bob@example.org.vcf`);
    expect(remote.status).toBe(200);
    expect(remote.text).toContain("FN:Bob Example");
  }, 60_000);
});
