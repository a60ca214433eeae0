/**
 * Issue 13 item 12: a password change ends sessions everywhere, also when
 * made by the CLI in another process against a running server's data dir;
 * `pillarbox user sessions EMAIL` lists webmail sessions and ActiveSync
 * devices, `pillarbox user logout EMAIL` ends them.
 *
 * Real clients: the webmail over HTTPS (cookie), IMAP LOGIN over a socket
 * (its success is in the running server's auth cache), and the ActiveSync
 * test client (Basic auth on every request). The CLI runs as its own process.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { runCli } from "../helpers/proc.ts";
import { RawImap } from "../imap/client.ts";
import { ApiClient } from "../webmail/helpers.ts";
import { createUser, startEas, type EasEnv } from "../eas/helpers.ts";
import { kidText } from "../eas/client.ts";

setDefaultTimeout(60_000);

let env: EasEnv;
let base: string;
const BOB = { email: "bob@example.test", password: "bob-old-password-1" };
const NEW_PASSWORD = "bob-new-password-2";

beforeAll(async () => {
  env = await startEas({ withImap: true });
  base = `https://127.0.0.1:${env.port}`;
  await createUser(env.srv.store, BOB.email, BOB.password);
});
afterAll(async () => {
  await env.close();
});

/** The CLI in its own process on the running server's data dir, no ambient PILLARBOX_* settings. */
function cli(args: string[], input?: string) {
  const e: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: env.srv.config.dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in e)) e[k] = undefined;
  return runCli(args, { env: e, input });
}

async function imapLogin(user: string, pass: string): Promise<string> {
  const { c } = await RawImap.connect(env.srv.port("IMAP"));
  try {
    const r = await c.cmd(`LOGIN "${user}" "${pass}"`);
    return r.status;
  } finally {
    c.close();
  }
}

describe("a password change ends sessions everywhere", () => {
  test("`user passwd` in another process: the old cookie, the cached IMAP login and ActiveSync Basic fail at once", async () => {
    if (!env.imap) throw new Error("IMAP is not built");
    const web = await ApiClient.signIn(base, BOB);
    expect((await web.get("/api/folders")).status).toBe(200);
    // A logged-in IMAP client: the server now holds this password in its auth cache.
    expect(await imapLogin(BOB.email, BOB.password)).toBe("OK");
    const phone = env.client({ user: BOB.email, pass: BOB.password, deviceId: "BOBPHONE1", deviceType: "iPhone", version: "16.1" });
    await phone.provision();
    expect((await phone.folderSync()).status).toBe(200);

    const changed = await cli(["user", "passwd", BOB.email, "--password-stdin"], NEW_PASSWORD + "\n");
    expect(changed.code).toBe(0);

    // Webmail: the old cookie is refused (and could no longer send mail).
    expect((await web.get("/api/folders")).status).toBe(401);
    expect((await web.send("POST", "/api/send", { to: ["bob@example.test"], subject: "x", text: "x" })).status).toBe(401);
    // IMAP: the old password fails at once, cache or not.
    expect(await imapLogin(BOB.email, BOB.password)).toBe("NO");
    // ActiveSync: Basic with the old password is refused; the device re-authenticates with the new one.
    expect((await phone.send("FolderSync", null, {})).status).toBe(401);
    const renewed = env.client({ user: BOB.email, pass: NEW_PASSWORD, deviceId: "BOBPHONE1", deviceType: "iPhone", version: "16.1" });
    await renewed.provision();
    expect((await renewed.folderSync()).status).toBe(200);
    expect(await imapLogin(BOB.email, NEW_PASSWORD)).toBe("OK");
    expect((await ApiClient.signIn(base, { email: BOB.email, password: NEW_PASSWORD })).cookie).not.toBe("");
  });

  test("a webmail password change keeps its own session and ends the others", async () => {
    const me = await ApiClient.signIn(base, { email: BOB.email, password: NEW_PASSWORD });
    const other = await ApiClient.signIn(base, { email: BOB.email, password: NEW_PASSWORD });
    expect(await imapLogin(BOB.email, NEW_PASSWORD)).toBe("OK");
    const r = await me.send("POST", "/api/password", { current: NEW_PASSWORD, next: "bob-third-password-3" });
    expect(r.status).toBe(200);
    expect((await me.get("/api/folders")).status).toBe(200);
    expect((await other.get("/api/folders")).status).toBe(401);
    expect(await imapLogin(BOB.email, NEW_PASSWORD)).toBe("NO");
    expect(await imapLogin(BOB.email, "bob-third-password-3")).toBe("OK");
  });

  test("`user sessions` lists webmail sessions and ActiveSync devices; `user logout` ends them all", async () => {
    const web = await ApiClient.signIn(base, { email: BOB.email, password: "bob-third-password-3" });
    const phone = env.client({ user: BOB.email, pass: "bob-third-password-3", deviceId: "BOBPHONE2", version: "14.1" });
    await phone.provision();
    expect((await phone.folderSync()).status).toBe(200);
    const listed = await cli(["user", "sessions", BOB.email]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^KIND\s+ID\s+CREATED\s+LAST SEEN\s+IP\s+CLIENT/);
    expect(listed.stdout).toMatch(/^webmail\s+\S{8}\s+\d{4}-\d\d-\d\dT\S+Z\s+\S+Z\s+127\.0\.0\.1/m);
    expect(listed.stdout).toMatch(/^activesync\s+BOBPHONE2\s+\S+Z\s+\S+Z\s+127\.0\.0\.1/m);
    expect(listed.stdout).toContain("BOBPHONE1");
    const out = await cli(["user", "logout", BOB.email]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/ended [1-9]\d* webmail sessions?, removed [1-9]\d* ActiveSync devices?/);
    expect((await web.get("/api/folders")).status).toBe(401);
    const after = await cli(["user", "sessions", BOB.email]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain("no webmail sessions or ActiveSync devices");
    // The partnership is gone: the device must provision again before it may sync (MS-ASPROV, status 142).
    const again = await phone.folderSync();
    expect(kidText(again.doc!, "FolderHierarchy:Status")).toBe("142");
  });

  test("the commands are in --help and refuse an unknown account", async () => {
    const help = await cli(["--help"]);
    expect(help.stdout).toContain("user sessions");
    expect(help.stdout).toContain("user logout");
    const nobody = await cli(["user", "logout", "nobody@example.test"]);
    expect(nobody.code).not.toBe(0);
    expect(nobody.stderr).toContain("no such account");
  });
});
