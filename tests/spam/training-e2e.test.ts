/**
 * Issue 19, done-when 3: moving a message into Junk trains the classifier,
 * over IMAP (python3 imaplib: MOVE, and COPY + STORE \Deleted + EXPUNGE as a
 * client without MOVE does), over ActiveSync (MoveItems) and in the webmail
 * (POST /api/messages/move) — the next similar message delivered over SMTP
 * (python3 smtplib) scores higher (its X-Spam-Score and the classifier's
 * probability) — and moving it out of Junk trains it back (the next one
 * scores lower again). The IMAP keywords $Junk / $NotJunk set without a move
 * train the same way.
 *
 * Each user's own model first learns 20 unrelated spam and 20 unrelated ham
 * messages (the least the classifier needs before it has an opinion), so the
 * probe messages start neutral and only the user's move changes that.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { startTestServer, createUser, type TestServer } from "../helpers/server.ts";
import { ApiClient, request, waitFor } from "../webmail/helpers.ts";
import { EasClient, closeConnections, commandsOf, appData, el, kid, kidText } from "../eas/client.ts";
import { createBayesClassifier, bayesKey } from "../../src/spam/bayes.ts";
import type { Folder } from "../../storage/api.ts";

const DOMAIN = "example.test";
const USERS = {
  imapMove: { email: `mover@${DOMAIN}`, password: "mover password 123" },
  imapCopy: { email: `copier@${DOMAIN}`, password: "copier password 123" },
  eas: { email: `phone@${DOMAIN}`, password: "phone password 1234" },
  webmail: { email: `browser@${DOMAIN}`, password: "browser password 12" },
  keywords: { email: `keywords@${DOMAIN}`, password: "keywords password 1" },
};
type UserKey = keyof typeof USERS;

const enc = new TextEncoder();
const HAM_TOPICS = ["quarterly budget review", "release planning meeting", "server maintenance window", "team offsite agenda", "invoice for consulting hours"];
const SPAM_TOPICS = ["cheap replica watches", "online casino bonus", "weight loss pills", "work from home income", "discount software licenses"];

function background(kind: "spam" | "ham", i: number, to: string): Uint8Array {
  const topic = (kind === "spam" ? SPAM_TOPICS : HAM_TOPICS)[i % 5];
  const from = kind === "spam" ? `promo${i}@bulk-offers${i % 4}.example` : `colleague${i % 3}@partner.example`;
  const body =
    kind === "spam"
      ? `Amazing offer on ${topic}! Limited time only, act now and save ${10 + i}%. Click http://offers${i % 4}.bulk-offers.example/deal${i} to order. Unsubscribe anytime.`
      : `Hello, about the ${topic}: the notes from item ${i} are in the shared folder, please review before Thursday. Regards, the team.`;
  return enc.encode(`From: ${from}\r\nTo: ${to}\r\nSubject: ${topic} ${i}\r\nMessage-ID: <bg-${kind}-${i}@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
}

/** The probe: a message unlike anything in the background training, in variants that share its words. */
function probe(n: number, to: string): string {
  return (
    `From: Prize Department <claims@zorblax-lottery.example>\r\nTo: ${to}\r\nSubject: Quintessa megafund notification ${n}\r\nMessage-ID: <probe-${n}-${Math.random().toString(36).slice(2)}@zorblax-lottery.example>\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n\r\n` +
    `Dear beneficiary, the quintessa megafund zorblax committee confirms your allocation. ` +
    `Contact our disbursement officer Wendeline Okonkwo-Farrow with reference QMF-${n} to arrange the zorblax transfer. ` +
    `Visit https://claims.zorblax-lottery.example/ref/${n} for the megafund documentation.\r\n`
  );
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // asynchronous: the server runs in this process
    const child = execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
    if (input !== undefined) child.stdin!.end(input);
  });
}

describe("training from Junk moves over IMAP, ActiveSync and the webmail", () => {
  let srv: TestServer;
  const ids = {} as Record<UserKey, number>;
  const folders = {} as Record<UserKey, { inbox: Folder; junk: Folder }>;
  let bayes: ReturnType<typeof createBayesClassifier>;
  let probeN = 0;

  beforeAll(async () => {
    srv = await startTestServer({ listeners: ["SMTP", "IMAP", "HTTP", "HTTPS"] });
    bayes = createBayesClassifier(srv.ctx.storage.bayes);
    for (const k of Object.keys(USERS) as UserKey[]) {
      const a = await createUser(srv.store, USERS[k].email, USERS[k].password);
      ids[k] = a.id;
      const list = await srv.store.listFolders(a.id);
      folders[k] = { inbox: list.find((f) => f.name === "INBOX")!, junk: list.find((f) => f.specialUse === "\\Junk")! };
      for (let i = 0; i < 20; i++) {
        await srv.ctx.spam.train(a.id, background("spam", i, USERS[k].email), "spam");
        await srv.ctx.spam.train(a.id, background("ham", i, USERS[k].email), "ham");
      }
    }
  });
  afterAll(async () => {
    closeConnections();
    await srv?.close();
  });

  /** Sends the next probe to `user` over SMTP; returns its stored copy (where it landed, its X-Spam-Score, the classifier's probability). */
  async function deliverProbe(user: UserKey): Promise<{ id: number; folderId: number; score: number; probability: number; raw: Uint8Array }> {
    const n = ++probeN;
    const to = USERS[user].email;
    const py = `import smtplib,sys
s=smtplib.SMTP('127.0.0.1', ${srv.port("SMTP")}, timeout=30)
s.sendmail('claims@zorblax-lottery.example', [${JSON.stringify(to)}], sys.stdin.buffer.read())
s.quit()`;
    await run("python3", ["-c", py], probe(n, to));
    const found = await waitFor(async () => {
      for (const f of [folders[user].inbox, folders[user].junk]) {
        for (const m of await srv.store.listMessages(f.id)) {
          const raw = await srv.store.readMessage(m.id);
          if (new TextDecoder().decode(raw).includes(`reference QMF-${n} `)) return { id: m.id, folderId: f.id, raw };
        }
      }
      return null;
    }, `probe ${n} in ${to}'s mailbox`);
    const text = new TextDecoder().decode(found.raw);
    const header = /^X-Spam-Score: (-?[\d.]+)/m.exec(text);
    expect(header).not.toBeNull();
    const verdict = await bayes.classify(ids[user], DOMAIN, bayes.tokenize(found.raw, srv.config.spam.maxScanBytes));
    expect(verdict?.model).toBe("account");
    return { ...found, score: Number(header![1]), probability: verdict!.probability };
  }

  const trainedAs = (user: UserKey, raw: Uint8Array) => srv.ctx.storage.bayes.trainedAs({ accountId: ids[user] }, bayesKey(raw));

  /** The shared scenario: a neutral probe is moved into Junk by `moveIn`, the next scores higher; moved out by `moveOut`, the next scores lower. */
  async function scenario(user: UserKey, moveIn: (id: number) => Promise<void>, moveOut: (id: number) => Promise<void>): Promise<void> {
    const first = await deliverProbe(user);
    expect(first.folderId).toBe(folders[user].inbox.id);
    expect(await trainedAs(user, first.raw)).toBeNull(); // delivery never trains
    await moveIn(first.id);
    await waitFor(async () => (await trainedAs(user, first.raw)) === "spam", "the move into Junk to train spam");
    const second = await deliverProbe(user);
    expect(second.probability).toBeGreaterThan(first.probability);
    expect(second.score).toBeGreaterThan(first.score);
    await moveOut(first.id);
    await waitFor(async () => (await trainedAs(user, first.raw)) === "ham", "the move out of Junk to train ham");
    const third = await deliverProbe(user);
    expect(third.probability).toBeLessThan(second.probability);
    expect(third.score).toBeLessThan(second.score);
  }

  function imap(user: UserKey, script: string): Promise<string> {
    const u = USERS[user];
    return run("python3", [
      "-c",
      `import imaplib
m=imaplib.IMAP4('127.0.0.1', ${srv.port("IMAP")})
m.login(${JSON.stringify(u.email)}, ${JSON.stringify(u.password)})
${script}
m.logout()`,
    ]);
  }
  /** Python lines that select `folder` and set `uid` to the probe message's UID there (by its Subject). */
  const findUid = (folder: string, n: number) => `typ,_=m.select('${folder}')
assert typ=='OK'
typ,data=m.uid('SEARCH', None, 'SUBJECT', '"notification ${n}"')
uid=data[0].split()[-1].decode()`;

  test("IMAP MOVE (RFC 6851) into Junk and back to INBOX", async () => {
    const start = probeN + 1;
    await scenario(
      "imapMove",
      async () => {
        const out = await imap("imapMove", `${findUid("INBOX", start)}\ntyp,_=m.uid('MOVE', uid, 'Junk')\nprint(typ)`);
        expect(out.trim()).toBe("OK");
      },
      async () => {
        const out = await imap("imapMove", `${findUid("Junk", start)}\ntyp,_=m.uid('MOVE', uid, 'INBOX')\nprint(typ)`);
        expect(out.trim()).toBe("OK");
      },
    );
  }, 30_000);

  test("IMAP COPY + STORE \\Deleted + EXPUNGE (a client without MOVE) into Junk and back", async () => {
    const start = probeN + 1;
    const copyThenDelete = (from: string, to: string) => `${findUid(from, start)}
typ,_=m.uid('COPY', uid, '${to}')
assert typ=='OK'
m.uid('STORE', uid, '+FLAGS', '(\\\\Deleted)')
typ,_=m.expunge()
print(typ)`;
    await scenario(
      "imapCopy",
      async () => expect((await imap("imapCopy", copyThenDelete("INBOX", "Junk"))).trim()).toBe("OK"),
      async () => expect((await imap("imapCopy", copyThenDelete("Junk", "INBOX"))).trim()).toBe("OK"),
    );
  }, 30_000);

  test("ActiveSync MoveItems into the Junk folder and back to the Inbox", async () => {
    const c = new EasClient({ host: "127.0.0.1", port: srv.port("HTTPS"), user: USERS.eas.email, pass: USERS.eas.password, deviceId: "spamtrain1", version: "16.1", libwbxml: false });
    await c.provision();
    await c.folderSync();
    const inbox = c.folderByType(2);
    const junk = c.folders.find((f) => f.displayName === "Junk")!.serverId;
    await c.sync(inbox);
    let inJunk = "";
    const serverIdOf = async (subjectNumber: number): Promise<string> =>
      waitFor(async () => {
        const s = await c.sync(inbox);
        const add = commandsOf(s.coll).adds.find((a) => kidText(appData(a), "Email:Subject") === `Quintessa megafund notification ${subjectNumber}`);
        return add ? kidText(add, "AirSync:ServerId")! : null;
      }, "the probe in the device's Inbox");
    const start = probeN + 1;
    await scenario(
      "eas",
      async () => {
        const src = await serverIdOf(start);
        const r = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", src), el("Move:SrcFldId", inbox), el("Move:DstFldId", junk))));
        const resp = kid(r.doc!, "Move:Response");
        expect(kidText(resp, "Move:Status")).toBe("3");
        inJunk = kidText(resp, "Move:DstMsgId")!;
      },
      async () => {
        const r = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", inJunk), el("Move:SrcFldId", junk), el("Move:DstFldId", inbox))));
        expect(kidText(kid(r.doc!, "Move:Response"), "Move:Status")).toBe("3");
      },
    );
  }, 30_000);

  test("webmail POST /api/messages/move into Junk and back to the Inbox", async () => {
    const base = `https://127.0.0.1:${srv.port("HTTPS")}`;
    await request("GET", base + "/login");
    const api = await ApiClient.signIn(base, USERS.webmail);
    const { inbox, junk } = folders.webmail;
    await scenario(
      "webmail",
      async (id) => {
        const r = await api.ok<{ moved: number }>("POST", "/api/messages/move", { ids: [id], folderId: junk.id });
        expect(r.moved).toBe(1);
      },
      async (id) => {
        const r = await api.ok<{ moved: number }>("POST", "/api/messages/move", { ids: [id], folderId: inbox.id });
        expect(r.moved).toBe(1);
      },
    );
  }, 30_000);

  test("IMAP keywords without a move: STORE +FLAGS ($Junk) trains spam, then $NotJunk instead trains ham", async () => {
    const start = probeN + 1;
    await scenario(
      "keywords",
      async () => {
        const out = await imap("keywords", `${findUid("INBOX", start)}\ntyp,_=m.uid('STORE', uid, '+FLAGS', '($Junk)')\nprint(typ)`);
        expect(out.trim()).toBe("OK");
      },
      async () => {
        const out = await imap("keywords", `${findUid("INBOX", start)}\nm.uid('STORE', uid, '-FLAGS', '($Junk)')\ntyp,_=m.uid('STORE', uid, '+FLAGS', '($NotJunk)')\nprint(typ)`);
        expect(out.trim()).toBe("OK");
      },
    );
  }, 30_000);

  test("moving junk on to the Trash is no verdict: the message stays trained as spam", async () => {
    const first = await deliverProbe("webmail");
    const base = `https://127.0.0.1:${srv.port("HTTPS")}`;
    const api = await ApiClient.signIn(base, USERS.webmail);
    await api.ok("POST", "/api/messages/move", { ids: [first.id], folderId: folders.webmail.junk.id });
    await waitFor(async () => (await trainedAs("webmail", first.raw)) === "spam", "spam training");
    const trash = (await srv.store.listFolders(ids.webmail)).find((f) => f.specialUse === "\\Trash")!;
    await api.ok("POST", "/api/messages/move", { ids: [first.id], folderId: trash.id });
    // the trainer works in event order: once a later move into Junk is trained, the Trash move has been seen
    const other = await deliverProbe("webmail");
    await api.ok("POST", "/api/messages/move", { ids: [other.id], folderId: folders.webmail.junk.id });
    await waitFor(async () => (await trainedAs("webmail", other.raw)) === "spam", "the later move trained");
    expect(await trainedAs("webmail", first.raw)).toBe("spam");
  }, 30_000);
});
