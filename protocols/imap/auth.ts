/**
 * Connection and authentication commands: CAPABILITY, NOOP, LOGOUT
 * (RFC 9051 §6.1), STARTTLS, LOGIN, AUTHENTICATE PLAIN/LOGIN with SASL-IR
 * (§6.2, RFC 4959, RFC 4616), ID (RFC 2971), ENABLE (RFC 5161),
 * UNAUTHENTICATE (RFC 8437), COMPRESS=DEFLATE (RFC 4978), IDLE (RFC 2177).
 */
import { Buffer } from "node:buffer";
import { argString, isAtom } from "./parser.ts";
import { nstr, str } from "./encode.ts";
import { bad, no, ok, registerCommands, type Result, type Session } from "./session.ts";

function plaintextAllowed(s: Session): boolean {
  return s.tls || s.ctx.config.imap.allowPlaintextAuth;
}

async function finishLogin(s: Session, user: string, pass: string): Promise<Result> {
  if (s.ctx.shuttingDown) return no("Server shutting down.", "UNAVAILABLE");
  // The shared throttle (src/auth-throttle.ts) reserves the attempt before the password hash is checked.
  const r = await s.ctx.login(user, pass, s.remoteIp, { protocol: "imap" });
  // RFC 5530 UNAVAILABLE: temporary; the throttle lifts it after its delay or window
  if (!r.ok && r.reason === "throttled") return no("Too many failed logins, try again later.", "UNAVAILABLE");
  if (!r.ok) return no("Authentication failed.", "AUTHENTICATIONFAILED");
  await s.loggedIn(r.account, r.stamp);
  return ok("Logged in", `CAPABILITY ${s.capabilities()}`);
}

function b64decode(s: string): string | null {
  if (s === "=") return "";
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, "base64").toString("utf8");
}

registerCommands({
  CAPABILITY: {
    state: "any",
    fn(s) {
      s.send(`* CAPABILITY ${s.capabilities()}\r\n`);
      return ok("Capability completed.");
    },
  },
  NOOP: { state: "any", fn: () => ok("NOOP completed.") },
  LOGOUT: {
    state: "any",
    fn(s, cmd) {
      s.send("* BYE Logging out\r\n");
      s.tagged(cmd.tag, ok("Logout completed."));
      s.close();
      return { status: "OK", text: "", noSync: true };
    },
  },
  STARTTLS: {
    state: "notauth",
    async fn(s, cmd) {
      if (s.tls || s.listener.name !== "IMAP") return bad("TLS is already active.");
      if (cmd.args.length) return bad("STARTTLS takes no arguments.");
      s.tagged(cmd.tag, ok("Begin TLS negotiation now."));
      await s.startTls();
      return { status: "OK", text: "", noSync: true };
    },
  },
  LOGIN: {
    state: "notauth",
    async fn(s, cmd) {
      if (cmd.args.length !== 2) return bad("LOGIN needs a user name and a password.");
      const user = argString(cmd.args[0]);
      const pass = argString(cmd.args[1]);
      if (user === null || pass === null) return bad("Invalid arguments.");
      // RFC 9051 §6.2.3: LOGINDISABLED before TLS unless configured otherwise
      if (!plaintextAllowed(s)) return no("Plaintext authentication disallowed on non-secure connections.", "PRIVACYREQUIRED");
      return finishLogin(s, user, pass);
    },
  },
  AUTHENTICATE: {
    state: "notauth",
    async fn(s, cmd) {
      const mech = argString(cmd.args[0])?.toUpperCase();
      if (!mech || cmd.args.length > 2) return bad("Invalid arguments.");
      if (!plaintextAllowed(s)) return no("Plaintext authentication disallowed on non-secure connections.", "PRIVACYREQUIRED");
      let initial = cmd.args.length === 2 ? argString(cmd.args[1]) : null;
      const step = async (challenge: string): Promise<string | null | "cancel"> => {
        s.send(`+ ${challenge}\r\n`);
        const line = await s.readLine();
        if (line === null) return null;
        if (line === "*") return "cancel";
        return line;
      };
      if (mech === "PLAIN") {
        let resp = initial;
        if (resp === null) {
          const r = await step("");
          if (r === null) return { status: "NO", text: "", noSync: true };
          if (r === "cancel") return bad("Authentication canceled.");
          resp = r;
        }
        const dec = b64decode(resp.trim());
        if (dec === null) return bad("Invalid base64 data.");
        const parts = dec.split("\0");
        if (parts.length !== 3) return no("Invalid PLAIN response.", "AUTHENTICATIONFAILED");
        const [authz, authc, pass] = parts;
        // RFC 4616: acting as another user (authzid) is not supported
        if (authz !== "" && authz.toLowerCase() !== authc.toLowerCase()) return no("Authorization identity not permitted.", "AUTHORIZATIONFAILED");
        return finishLogin(s, authc, pass);
      }
      if (mech === "LOGIN") {
        let user: string | null = null;
        if (initial !== null) {
          user = b64decode(initial.trim());
          initial = null;
        } else {
          const r = await step(Buffer.from("Username:").toString("base64"));
          if (r === null) return { status: "NO", text: "", noSync: true };
          if (r === "cancel") return bad("Authentication canceled.");
          user = b64decode(r.trim());
        }
        if (user === null) return bad("Invalid base64 data.");
        const r2 = await step(Buffer.from("Password:").toString("base64"));
        if (r2 === null) return { status: "NO", text: "", noSync: true };
        if (r2 === "cancel") return bad("Authentication canceled.");
        const pass = b64decode(r2.trim());
        if (pass === null) return bad("Invalid base64 data.");
        return finishLogin(s, user, pass);
      }
      return no("Unsupported authentication mechanism.", "CANNOT");
    },
  },
  ID: {
    state: "any",
    fn(s, cmd) {
      const a = cmd.args[0];
      if (cmd.args.length !== 1 || !(isAtom(a, "NIL") || a.t === "list")) return bad("ID needs a list or NIL.");
      if (a.t === "list") {
        // RFC 2971 §3.3: field-value pairs; keep a bounded copy for the log
        if (a.v.length % 2 !== 0) return bad("ID list must hold field/value pairs.");
        const info: Record<string, string | null> = {};
        for (let i = 0; i + 1 < a.v.length && i < 60; i += 2) {
          const k = argString(a.v[i]);
          const v = a.v[i + 1];
          if (k === null || v.t === "list") return bad("Invalid ID field.");
          info[k.slice(0, 30)] = isAtom(v, "NIL") ? null : v.v.slice(0, 1024);
        }
        s.clientId = info;
        s.log.debug("imap: client id", { id: info });
      }
      s.send(`* ID (${str("name")} ${str("Pillarbox")} ${str("vendor")} ${str("Pillarbox")} ${str("support-url")} ${nstr(null)})\r\n`);
      return ok("ID completed.");
    },
  },
  ENABLE: {
    state: "auth",
    fn(s, cmd) {
      if (!cmd.args.length) return bad("ENABLE needs capability names.");
      const enabled: string[] = [];
      for (const a of cmd.args) {
        const c = argString(a)?.toUpperCase();
        if (!c) return bad("Invalid capability name.");
        if (c === "CONDSTORE" && !s.condstore) {
          s.condstore = true;
          enabled.push("CONDSTORE");
        } else if (c === "QRESYNC" && !s.qresync) {
          // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE
          s.qresync = true;
          s.condstore = true;
          enabled.push("QRESYNC");
        } else if (c === "IMAP4REV2" && !s.rev2) {
          s.rev2 = true;
          enabled.push("IMAP4rev2");
        } else if (c === "UTF8=ACCEPT" && !s.utf8) {
          s.utf8 = true;
          enabled.push("UTF8=ACCEPT");
        }
      }
      s.send(`* ENABLED${enabled.length ? " " + enabled.join(" ") : ""}\r\n`);
      return ok("Enabled.");
    },
  },
  UNAUTHENTICATE: {
    state: "auth",
    fn(s) {
      // RFC 8437: back to the not authenticated state, TLS and compression stay
      s.unselect();
      if (s.hub) {
        if (s.notify) s.hub.listeners.delete(s.notify);
        s.hub.release();
        s.hub = null;
      }
      s.account = null;
      s.state = "notauth";
      s.notauthSince = Date.now(); // the login timeout starts again (index.ts)
      s.parser.limits.maxAppendLiteral = s.parser.limits.maxOtherLiteral;
      s.parser.limits.maxAppendTotal = s.parser.limits.maxOtherTotal;
      s.condstore = s.qresync = s.rev2 = s.utf8 = false;
      s.notify = null;
      s.notifySelected = null;
      return { ...ok("Unauthenticated."), noSync: true };
    },
  },
  COMPRESS: {
    state: "auth",
    fn(s, cmd) {
      const alg = argString(cmd.args[0])?.toUpperCase();
      if (cmd.args.length !== 1 || !alg) return bad("COMPRESS needs an algorithm.");
      if (s.compressed) return no("Compression already active.", "COMPRESSIONACTIVE");
      if (alg !== "DEFLATE") return no("Unknown compression algorithm.", "CANNOT");
      s.tagged(cmd.tag, ok("Begin compression now."));
      s.startCompression();
      return { status: "OK", text: "", noSync: true };
    },
  },
  IDLE: {
    state: "auth",
    async fn(s, cmd) {
      if (cmd.args.length) return bad("IDLE takes no arguments.");
      s.startIdle(cmd.tag);
      // pending updates go out at once; later ones as they happen (view.ts)
      await s.syncView(true, false, true);
      return { status: "OK", text: "", noSync: true };
    },
  },
});
