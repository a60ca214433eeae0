/**
 * Issue 13 item 11 over real IMAP sockets: a per-account limit that a
 * botnet cannot dodge by spreading guesses over many addresses, and a
 * throttle counted before the password hash (parallel LOGINs from one new
 * address do not all reach it). Client addresses are distinct 127.x.y.z
 * source addresses (the whole of 127/8 is local).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { SqlMailStore } from "../../storage/store.ts";

// 225 logins; on the unthrottled code each one costs an argon2 check.
setDefaultTimeout(60_000);

let srv: TestServer;
let port: number;
const hashChecks = { n: 0 };

/**
 * Counts the password-hash checks the server makes: a test hook on the store
 * class's `authenticate` (the argon2 verification), set before the server
 * starts and restored after.
 */
const realAuthenticate = SqlMailStore.prototype.authenticate;
SqlMailStore.prototype.authenticate = async function (this: SqlMailStore, email: string, password: string) {
  hashChecks.n++;
  return realAuthenticate.call(this, email, password);
};

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"] });
  port = srv.port("IMAP");
  await createUser(srv.store, "alice@example.test", "alice-right-password");
  await createUser(srv.store, "dora@example.test", "dora-right-password");
});
afterAll(async () => {
  await srv.close();
  SqlMailStore.prototype.authenticate = realAuthenticate;
});

class Imap {
  private buf = "";
  private waiters: (() => void)[] = [];
  private n = 0;
  private constructor(private sock: Socket) {
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("close", () => {
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("error", () => {});
  }
  static async open(localAddress: string): Promise<Imap> {
    const sock = await new Promise<Socket>((res, rej) => {
      const s = connect({ host: "127.0.0.1", port, localAddress }, () => res(s));
      s.once("error", rej);
    });
    const c = new Imap(sock);
    await c.until(/^\* OK.*\r\n/m);
    return c;
  }
  private async until(re: RegExp): Promise<string> {
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        const upto = m.index + m[0].length;
        const out = this.buf.slice(0, upto);
        this.buf = this.buf.slice(upto);
        return out;
      }
      if (this.sock.destroyed) throw new Error("closed: " + this.buf);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  /** Sends LOGIN and returns the tagged reply line. */
  async login(user: string, pass: string): Promise<string> {
    const tag = `t${++this.n}`;
    this.sock.write(`${tag} LOGIN "${user}" "${pass}"\r\n`);
    const out = await this.until(new RegExp(`^${tag} .*\\r\\n`, "m"));
    return out.slice(out.lastIndexOf(`${tag} `)).trim();
  }
  close(): void {
    this.sock.destroy();
  }
}

describe("IMAP logins go through the shared throttle", () => {
  test("225 wrong passwords for alice from 25 IPs are followed by delays; her known IP still gets in", async () => {
    // Alice uses her mail client from 127.0.0.1 before the attack: that IP becomes known for her.
    const own = await Imap.open("127.0.0.1");
    expect(await own.login("alice@example.test", "alice-right-password")).toStartWith("t1 OK");
    own.close();
    const before = hashChecks.n;
    const replies: string[] = [];
    for (let ip = 1; ip <= 25; ip++) {
      const c = await Imap.open(`127.0.1.${ip}`);
      for (let i = 0; i < 9; i++) replies.push(await c.login("alice@example.test", `guess-${ip}-${i}`));
      c.close();
    }
    expect(replies.length).toBe(225);
    expect(replies.every((r) => / NO /.test(r))).toBe(true);
    const throttled = replies.filter((r) => r.includes("[UNAVAILABLE]")).length;
    // Five free failures, then one guess per doubling delay: most guesses never reach the password check.
    expect(throttled).toBeGreaterThan(200);
    expect(hashChecks.n - before).toBeGreaterThanOrEqual(5);
    expect(hashChecks.n - before).toBeLessThan(25);
    // The right password from an attacker address is throttled, not accepted.
    const attacker = await Imap.open("127.0.1.26");
    const r = await attacker.login("alice@example.test", "alice-right-password");
    expect(r).toContain("NO [UNAVAILABLE]");
    attacker.close();
    // The owner, from the address she signed in from before, is not locked out.
    const again = await Imap.open("127.0.0.1");
    expect(await again.login("alice@example.test", "alice-right-password")).toStartWith("t1 OK");
    again.close();
  });

  test("40 parallel LOGINs from one new IP (39 guesses, the right password last) do not all reach the password check", async () => {
    await createUser(srv.store, "erin@example.test", "erin-right-password");
    const conns = await Promise.all(Array.from({ length: 40 }, () => Imap.open("127.0.2.39")));
    const before = hashChecks.n;
    const replies = await Promise.all(conns.map((c, i) => c.login("erin@example.test", i === 39 ? "erin-right-password" : `guess-${i}`)));
    const checks = hashChecks.n - before;
    for (const c of conns) c.close();
    expect(checks).toBeGreaterThan(0); // the hook sees the checks
    // Counted before the hash check: no more guesses reach it than the limits allow...
    expect(checks).toBeLessThanOrEqual(srv.config.limits.authFailuresPerIp);
    // ...so the right password, sent after 39 guesses, is not let in.
    expect(replies[39]).toContain("NO [UNAVAILABLE]");
    expect(replies.every((r) => / NO /.test(r))).toBe(true);
  });

  test("40 parallel LOGINs with the right password from one new IP all get in with few hash checks", async () => {
    const conns = await Promise.all(Array.from({ length: 40 }, () => Imap.open("127.0.2.40")));
    const before = hashChecks.n;
    const replies = await Promise.all(conns.map((c) => c.login("dora@example.test", "dora-right-password")));
    const checks = hashChecks.n - before;
    for (const c of conns) c.close();
    // Attempts are reserved before the hash: at most the account's free attempts run at once; the
    // others wait for them and then find the (right) password in the auth cache.
    expect(replies.filter((r) => !r.startsWith("t1 OK"))).toEqual([]);
    expect(checks).toBeGreaterThan(0);
    expect(checks).toBeLessThanOrEqual(srv.config.limits.authFailuresPerIp);
  });
});
