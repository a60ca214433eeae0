/**
 * Scenario 4: cadaver (raw WebDAV over neon) scripted through stdin, with
 * the credentials in ~/.netrc (a temp HOME) and its certificate prompt
 * answered "y" (cadaver only asks on a terminal, so it runs under
 * script(1)'s pseudo-terminal): ls, put, propget, get, delete on a
 * calendar, the same script against Radicale and Pillarbox.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { assertClients, clientHome, clientSkip, describeRun, runClient, type ClientName } from "../../helpers/dav-clients.ts";
import { curl, MKCALENDAR_BODY } from "./curl.ts";
import { simpleEvent } from "./fixtures.ts";
import { onPeers, startPeers, type Peer } from "./peers.ts";

const NEEDS: ClientName[] = ["cadaver", "script", "curl", "radicale"];
const SKIP = clientSkip(NEEDS);

/** Strips terminal control sequences (readline's bracketed paste) and CRs. */
function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

/** The output of one cadaver command: the text after its prompt line up to the next prompt. */
function section(out: string, command: string): string {
  const start = out.indexOf(`> ${command}\n`);
  if (start < 0) return "";
  const rest = out.slice(start + command.length + 3);
  const next = rest.search(/\ndav:[^\n]*> /);
  return next < 0 ? rest : rest.slice(0, next);
}

async function scenario(p: Peer): Promise<{ same: Record<string, unknown>; exactGet: boolean; size: string }> {
  const home = clientHome();
  try {
    const col = `${p.calendarHome}cadaver/`;
    const mk = await curl(p, "MKCALENDAR", col, { body: MKCALENDAR_BODY("Cadaver") });
    if (mk.status !== 201) throw new Error(`${p.name}: MKCALENDAR ${mk.status} ${mk.text}`);
    writeFileSync(`${home.home}/.netrc`, `machine localhost\nlogin ${p.user}\npassword ${p.password}\n`, { mode: 0o600 });
    const ev = simpleEvent("Put by cadaver");
    writeFileSync(`${home.dir}/ev.ics`, ev);
    const got = `${home.dir}/got.ics`;
    const commands = ["ls", `put ${home.dir}/ev.ics ev.ics`, "ls", "propget ev.ics", `get ev.ics ${got}`, "delete ev.ics", "ls", "quit"];
    // First line: "y" to "Do you wish to accept the certificate? (y/n)".
    const r = await runClient(home, "script", ["-qec", `stty cols 1000 rows 50; exec cadaver '${col}'`, "/dev/null"], { input: ["y", ...commands, ""].join("\n"), env: { TERM: "dumb" }, timeoutMs: 20_000 });
    if (r.code !== 0 || r.timedOut) throw new Error(`${p.name}: cadaver ${describeRun(r)}`);
    const out = plain(r.stdout);
    // The pty echoes the typed lines first; the session starts after the certificate question.
    const session = out.slice(out.indexOf("Do you wish to accept the certificate?"));
    const ls = session.split(/dav:[^\n>]*> ls\n/).slice(1);
    const prop = section(session, "propget ev.ics");
    const propNames = [...prop.matchAll(/^DAV: ([a-z-]+) = /gm)].map((m) => m[1]!);
    const listedSize = ls[1]?.match(/^\s+ev\.ics\s+(\d+)/m)?.[1] ?? "";
    let body = "";
    try {
      body = readFileSync(got, "utf8");
    } catch {
      // not downloaded
    }
    return {
      same: {
        certificateAsked: /Untrusted server certificate/.test(out),
        lsEmpty: /collection is empty/.test(ls[0] ?? ""),
        put: /succeeded/.test(section(session, `put ${home.dir}/ev.ics ev.ics`)),
        // A listed object line: "  ev.ics   294  Dec  7 08:16" (cadaver prints "Error: ev.ics 404 ..." when a property it asks for is missing).
        lsListed: /^\s+ev\.ics\s+\d+\s/m.test(ls[1] ?? "") && !/Error:/.test(ls[1] ?? ""),
        propget: ["getetag", "getcontenttype", "getcontentlength", "getlastmodified"].map((n) => propNames.includes(n)),
        contentType: /getcontenttype = text\/calendar/.test(prop),
        get: /succeeded/.test(section(session, `get ev.ics ${got}`)) && body.includes("SUMMARY:Put by cadaver"),
        delete: /succeeded/.test(section(session, "delete ev.ics")),
        lsAfterDelete: /collection is empty/.test(ls[2] ?? ""),
        objectGone: (await curl(p, "GET", `${col}ev.ics`)).status,
      },
      exactGet: body === ev,
      size: listedSize,
    };
  } finally {
    home.cleanup();
  }
}

describe.skipIf(SKIP)("cadaver against Radicale and Pillarbox", () => {
  let peers: Awaited<ReturnType<typeof startPeers>>;
  beforeAll(async () => {
    assertClients(NEEDS);
    peers = await startPeers();
  }, 30_000);
  afterAll(async () => {
    await peers?.close();
  });

  test("ls, put, propget, get, delete on a calendar (certificate prompt answered, .netrc credentials)", async () => {
    const { radicale: rad, pillarbox: pbx } = await onPeers(peers, scenario);
    const expected = {
      certificateAsked: true,
      lsEmpty: true,
      put: true,
      lsListed: true,
      propget: [true, true, true, true],
      contentType: true,
      get: true,
      delete: true,
      lsAfterDelete: true,
      objectGone: 404,
    };
    if (rad) expect(rad.same).toEqual(expected);
    if (pbx) {
      expect(pbx.same).toEqual(rad?.same ?? expected);
      // Pillarbox returns the bytes cadaver put, and lists their exact size; Radicale re-serializes (documented).
      expect(pbx.exactGet).toBe(true);
      expect(pbx.size).toBe(String(Buffer.byteLength(simpleEvent("Put by cadaver"))));
    }
  }, 30_000);
});
