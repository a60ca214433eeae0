/**
 * The whole life of a device against the real server over HTTPS, for
 * protocol 12.1 (HTTP 449 provisioning, MIME-body SendMail, GetAttachment)
 * and 14.0, 14.1, 16.0, 16.1 (Status 142 provisioning, WBXML SendMail and
 * SmartReply):
 * OPTIONS -> Provision -> FolderSync -> Sync (SyncKey 0, then windows of 25
 * until MoreAvailable ends) -> GetItemEstimate -> Ping woken by an SMTP
 * delivery -> ItemOperations fetch of an attachment -> SendMail and
 * SmartReply -> MoveItems -> changes over IMAP seen by Sync, and changes
 * over ActiveSync seen by IMAP. Every request is compared byte for byte
 * with xml2wbxml's encoding and every response with wbxml2xml's decoding.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { run } from "../helpers/proc.ts";
import { appData, commandsOf, el, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, message, messageWithAttachment, startEas, type EasEnv } from "./helpers.ts";
import type { Account } from "../../storage/api.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";

const ATTACHMENT = new Uint8Array(3000).map((_, i) => (i * 7 + 3) % 256);
const INITIAL = 60;

async function smtpSend(port: number, from: string, to: string, subject: string): Promise<number> {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true, tls: { rejectUnauthorized: false } });
  await t.sendMail({ from, to, subject, text: `Sent over SMTP: ${subject}`, envelope: { from, to: [to] } });
  const at = Date.now();
  t.close();
  return at;
}

/** Runs a short python3 imaplib script against the server's IMAP listener. */
async function imap(port: number, user: string, pass: string, body: string): Promise<string> {
  const script = `import imaplib\nM = imaplib.IMAP4('127.0.0.1', ${port})\nM.login(${JSON.stringify(user)}, ${JSON.stringify(pass)})\n${body}\nM.logout()\n`;
  const r = await run("python3", ["-c", script], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return r.stdout;
}

for (const version of ["12.1", "14.0", "14.1", "16.0", "16.1"]) {
  describe(`device life, protocol ${version}`, () => {
    let env: EasEnv;
    let alice: Account;
    let bob: Account;
    let c: EasClient;
    let inbox: string;
    const serverIds = new Map<string, string>(); // subject -> ServerId
    const v = Number(version);

    beforeAll(async () => {
      env = await startEas({ withImap: true });
      alice = await createUser(env.srv.store, "alice@example.test", "alice-secret-1", { displayName: "Alice Example" });
      bob = await createUser(env.srv.store, "bob@example.test", "bob-secret-1", { displayName: "Bob Example" });
      const now = Date.now();
      for (let i = 0; i < INITIAL - 1; i++) {
        await env.srv.store.deliver(message({ to: "alice@example.test", subject: `Message ${i}`, body: `Body of message ${i}.\r\n` }), [{ accountId: alice.id }], { internalDate: now - (INITIAL - i) * 60_000 });
      }
      await env.srv.store.deliver(messageWithAttachment("alice@example.test", ATTACHMENT), [{ accountId: alice.id }], { internalDate: now - 30_000 });
      c = env.client({ user: "alice@example.test", pass: "alice-secret-1", deviceId: `LIFE${version.replace(".", "")}`, deviceType: "TestPhone", version, libwbxml: libwbxmlAvailable() });
    });

    afterAll(async () => {
      await env.close();
    });

    test("OPTIONS advertises versions and commands", async () => {
      const r = await c.options();
      expect(r.status).toBe(200);
      expect(String(r.headers["ms-asprotocolversions"])).toBe("12.1,14.0,14.1,16.0,16.1");
      const cmds = String(r.headers["ms-asprotocolcommands"]).split(",");
      for (const cmd of ["Sync", "FolderSync", "Ping", "Provision", "ItemOperations", "SendMail", "SmartReply", "SmartForward", "MoveItems", "GetItemEstimate", "Search", "Settings", "ResolveRecipients", "Find"]) expect(cmds).toContain(cmd);
    });

    test("a command before provisioning is refused, then Provision succeeds", async () => {
      const r = await c.folderSync();
      if (v < 14) {
        expect(r.status).toBe(449);
      } else {
        expect(r.status).toBe(200);
        expect(kidText(r.doc!, "FolderHierarchy:Status")).toBe("142");
      }
      const key = await c.provision();
      expect(key).toMatch(/^\d+$/);
      const dev = (await env.srv.store.listAccounts()).length; // sanity: server still fine
      expect(dev).toBe(2);
      if (v < 14.1) {
        const s = await c.send("Settings", el("Settings:Settings", el("Settings:DeviceInformation", el("Settings:Set", el("Settings:Model", "Test Model"), el("Settings:FriendlyName", "Test Phone")))));
        expect(kidText(kid(s.doc!, "Settings:DeviceInformation"), "Settings:Status")).toBe("1");
      }
    });

    test("Settings UserInformation", async () => {
      const s = await c.send("Settings", el("Settings:Settings", el("Settings:UserInformation", el("Settings:Get"))));
      expect(kidText(s.doc!, "Settings:Status")).toBe("1");
      const ui = kid(s.doc!, "Settings:UserInformation");
      expect(kidText(ui, "Settings:Status")).toBe("1");
      const addrs: string[] = [];
      const walk = (e: ReturnType<typeof kid>) => {
        for (const k of kids(e)) {
          if (k.name === "SmtpAddress") addrs.push(text(k));
          walk(k);
        }
      };
      walk(ui);
      expect(addrs).toContain("alice@example.test");
    });

    test("FolderSync lists the default folders", async () => {
      const r = await c.folderSync();
      expect(kidText(r.doc!, "FolderHierarchy:Status")).toBe("1");
      const types = c.folders.map((f) => f.type);
      for (const t of [2, 3, 4, 5]) expect(types).toContain(t);
      inbox = c.folderByType(2);
      // Nothing changed: same key, no changes.
      const again = await c.folderSync();
      expect(kidText(kid(again.doc!, "FolderHierarchy:Changes"), "FolderHierarchy:Count")).toBe("0");
    });

    test("Sync: SyncKey 0, then windows of 25 until MoreAvailable ends", async () => {
      const first = await c.sync(inbox);
      expect(first.status).toBe("1");
      expect(commandsOf(first.coll).adds.length).toBe(0);
      let rounds = 0;
      let more = true;
      const seen = new Set<string>();
      while (more) {
        const r = await c.sync(inbox, {
          windowSize: 25,
          options: [el("AirSync:FilterType", "0"), el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "2"), el("AirSyncBase:TruncationSize", "200"))],
        });
        expect(r.status).toBe("1");
        rounds++;
        const adds = commandsOf(r.coll).adds;
        expect(adds.length).toBeLessThanOrEqual(25);
        for (const a of adds) {
          const sid = kidText(a, "AirSync:ServerId")!;
          expect(seen.has(sid)).toBe(false);
          seen.add(sid);
          const d = appData(a)!;
          serverIds.set(kidText(d, "Email:Subject")!, sid);
          const body = kid(d, "AirSyncBase:Body");
          expect(kidText(body, "AirSyncBase:Type")).toBe("2");
          expect(Number(kidText(body, "AirSyncBase:EstimatedDataSize"))).toBeGreaterThan(0);
        }
        more = kid(r.coll, "AirSync:MoreAvailable") !== undefined;
        expect(rounds).toBeLessThan(10);
      }
      expect(seen.size).toBe(INITIAL);
      expect(rounds).toBe(Math.ceil(INITIAL / 25));
      // The attachment is announced with a FileReference.
      expect(serverIds.has("With an attachment")).toBe(true);
    });

    test("GetItemEstimate says nothing is pending", async () => {
      const doc =
        v >= 14
          ? el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", c.syncKeys.get(inbox)!), el("GetItemEstimate:CollectionId", inbox), el("AirSync:Options", el("AirSync:FilterType", "0")))))
          : el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("GetItemEstimate:Class", "Email"), el("GetItemEstimate:CollectionId", inbox), el("AirSync:FilterType", "0"), el("AirSync:SyncKey", c.syncKeys.get(inbox)!))));
      const r = await c.send("GetItemEstimate", doc);
      const resp = kid(r.doc!, "GetItemEstimate:Response");
      expect(kidText(resp, "GetItemEstimate:Status")).toBe("1");
      expect(kidText(kid(resp, "GetItemEstimate:Collection"), "GetItemEstimate:Estimate")).toBe("0");
    });

    test("Ping returns within a second of an SMTP delivery", async () => {
      const pingDone = c.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "300"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", inbox), el("Ping:Class", "Email")))));
      let answeredAt = 0;
      void pingDone.then(() => (answeredAt = Date.now()));
      await new Promise((r) => setTimeout(r, 300));
      expect(answeredAt).toBe(0); // still waiting: nothing changed
      const acceptedAt = await smtpSend(env.srv.port("SMTP"), "dave@elsewhere.test", "alice@example.test", "Arrived over SMTP");
      const r = await pingDone;
      expect(kidText(r.doc!, "Ping:Status")).toBe("2");
      expect(kids(kid(r.doc!, "Ping:Folders"), "Ping:Folder").map(text)).toEqual([inbox]);
      expect(answeredAt - acceptedAt).toBeLessThan(1000);
      const s = await c.sync(inbox);
      const adds = commandsOf(s.coll).adds;
      expect(adds.map((a) => kidText(appData(a), "Email:Subject"))).toEqual(["Arrived over SMTP"]);
      serverIds.set("Arrived over SMTP", kidText(adds[0]!, "AirSync:ServerId")!);
    });

    test("ItemOperations fetches the attachment byte for byte", async () => {
      const sid = serverIds.get("With an attachment")!;
      const f = await c.send(
        "ItemOperations",
        el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSync:CollectionId", inbox), el("AirSync:ServerId", sid), el("ItemOperations:Options", el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "1"))))),
      );
      const fetch = kid(kid(f.doc!, "ItemOperations:Response"), "ItemOperations:Fetch");
      expect(kidText(fetch, "ItemOperations:Status")).toBe("1");
      const props = kid(fetch, "ItemOperations:Properties");
      const ref = kidText(kid(kid(props, "AirSyncBase:Attachments"), "AirSyncBase:Attachment"), "AirSyncBase:FileReference")!;
      expect(ref).toBeTruthy();
      const r = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSyncBase:FileReference", ref))));
      const af = kid(kid(r.doc!, "ItemOperations:Response"), "ItemOperations:Fetch");
      expect(kidText(af, "ItemOperations:Status")).toBe("1");
      const data = Buffer.from(kidText(kid(af, "ItemOperations:Properties"), "ItemOperations:Data")!, "base64");
      expect(Buffer.compare(data, Buffer.from(ATTACHMENT))).toBe(0);
      // Multipart form (MS-ASAcceptMultiPart): the bytes come as a binary part.
      const m = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSyncBase:FileReference", ref))), { headers: { "ms-asacceptmultipart": "T" } });
      expect(String(m.headers["content-type"])).toContain("multipart");
      const dv = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      expect(dv.getInt32(0, true)).toBe(2);
      const off = dv.getInt32(12, true);
      const len = dv.getInt32(16, true);
      expect(Buffer.compare(Buffer.from(m.body.subarray(off, off + len)), Buffer.from(ATTACHMENT))).toBe(0);
      if (v < 14) {
        const g = await c.send("GetAttachment", null, { params: { AttachmentName: ref } });
        expect(g.status).toBe(200);
        expect(Buffer.compare(Buffer.from(g.body), Buffer.from(ATTACHMENT))).toBe(0);
      }
    });

    test("SendMail and SmartReply: the recipient receives them, Sent holds them", async () => {
      const mime = `From: Alice Example <alice@example.test>\r\nTo: Bob Example <bob@example.test>\r\nSubject: Hello from the phone ${version}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSent with ActiveSync.\r\n`;
      const r =
        v < 14
          ? await c.send("SendMail", null, { params: { SaveInSent: "T" }, headers: { "content-type": "message/rfc822" }, raw: new TextEncoder().encode(mime) })
          : await c.send("SendMail", el("ComposeMail:SendMail", el("ComposeMail:ClientId", `send-${version}`), el("ComposeMail:SaveInSentItems"), el("ComposeMail:Mime", new TextEncoder().encode(mime))));
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(0);
      const bobInbox = (await env.srv.store.getFolder(bob.id, "INBOX"))!;
      const got = await env.srv.store.getMessages(bobInbox.id, (await env.srv.store.listMessages(bobInbox.id)).map((m) => m.uid));
      expect(got.map((m) => m.subject)).toContain(`Hello from the phone ${version}`);
      const sent = (await env.srv.store.listFolders(alice.id)).find((f) => f.specialUse === "\\Sent")!;
      const sentMsgs = await env.srv.store.getMessages(sent.id, (await env.srv.store.listMessages(sent.id)).map((m) => m.uid));
      expect(sentMsgs.map((m) => m.subject)).toContain(`Hello from the phone ${version}`);

      // SmartReply to one of the messages Bob sent to Alice.
      const orig = serverIds.get("Message 3")!;
      const reply = `From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Re: Message 3\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks for this.\r\n`;
      const rr =
        v < 14
          ? await c.send("SmartReply", null, { params: { SaveInSent: "T", ItemId: orig, CollectionId: inbox }, headers: { "content-type": "message/rfc822" }, raw: new TextEncoder().encode(reply) })
          : await c.send(
              "SmartReply",
              el("ComposeMail:SmartReply", el("ComposeMail:ClientId", `reply-${version}`), el("ComposeMail:SaveInSentItems"), el("ComposeMail:Source", el("ComposeMail:FolderId", inbox), el("ComposeMail:ItemId", orig)), el("ComposeMail:Mime", new TextEncoder().encode(reply))),
            );
      expect(rr.status).toBe(200);
      expect(rr.body.length).toBe(0);
      const bobMsgs = await env.srv.store.getMessages(bobInbox.id, (await env.srv.store.listMessages(bobInbox.id)).map((m) => m.uid));
      const replyMsg = bobMsgs.find((m) => m.subject === "Re: Message 3")!;
      expect(replyMsg).toBeTruthy();
      const replyRaw = new TextDecoder().decode(await env.srv.store.readMessage(replyMsg.id));
      const bodyB64 = replyRaw.slice(replyRaw.indexOf("\r\n\r\n") + 4).replace(/\s+/g, "");
      const replyText = Buffer.from(bodyB64, "base64").toString("utf8");
      expect(replyText).toContain("Thanks for this.");
      expect(replyText).toContain("> Body of message 3.");
      const sentAfter = await env.srv.store.getMessages(sent.id, (await env.srv.store.listMessages(sent.id)).map((m) => m.uid));
      expect(sentAfter.map((m) => m.subject)).toContain("Re: Message 3");
      // The original is now answered, and the device learns it in the next Sync.
      const s = await c.sync(inbox);
      const ch = commandsOf(s.coll).changes.find((x) => kidText(x, "AirSync:ServerId") === orig);
      expect(ch).toBeTruthy();
      if (v >= 14) expect(kidText(appData(ch!), "Email2:LastVerbExecuted")).toBe("1");
    });

    test("MoveItems moves to a folder made with FolderCreate; the next Syncs bring the source's Delete and no duplicate Add", async () => {
      const fc = await c.send("FolderCreate", el("FolderHierarchy:FolderCreate", el("FolderHierarchy:SyncKey", c.folderSyncKey), el("FolderHierarchy:ParentId", "0"), el("FolderHierarchy:DisplayName", `Projects ${version}`), el("FolderHierarchy:Type", "12")));
      expect(kidText(fc.doc!, "FolderHierarchy:Status")).toBe("1");
      c.folderSyncKey = kidText(fc.doc!, "FolderHierarchy:SyncKey")!;
      const dst = kidText(fc.doc!, "FolderHierarchy:ServerId")!;
      const after = await c.folderSync();
      expect(kidText(kid(after.doc!, "FolderHierarchy:Changes"), "FolderHierarchy:Count")).toBe("0"); // its own change is not echoed
      await c.sync(dst);
      await c.sync(dst); // primed and empty
      const src = serverIds.get("Message 5")!;
      const m = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", src), el("Move:SrcFldId", inbox), el("Move:DstFldId", dst))));
      const resp = kid(m.doc!, "Move:Response");
      expect(kidText(resp, "Move:Status")).toBe("3");
      const dstId = kidText(resp, "Move:DstMsgId")!;
      expect(dstId.split(":")[1]).toBe(src.split(":")[1]); // the stable item id survives the move
      // MS-ASCMD §2.2.1.12: a Delete in the source at the next Sync; no duplicate Add in the destination
      const s1 = await c.sync(inbox);
      expect(commandsOf(s1.coll).deletes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([src]);
      const s2 = await c.sync(dst);
      expect(commandsOf(s2.coll).adds.length).toBe(0);
      const folder = (await env.srv.store.getFolder(alice.id, `Projects ${version}`))!;
      const inDst = await env.srv.store.getMessages(folder.id, (await env.srv.store.listMessages(folder.id)).map((x) => x.uid));
      expect(inDst.map((x) => x.subject)).toEqual(["Message 5"]);
    });

    test("a change over IMAP shows in the next Sync; a change over ActiveSync shows in IMAP", async () => {
      const store = env.srv.store;
      const inboxF = (await store.getFolder(alice.id, "INBOX"))!;
      const list = await store.getMessages(inboxF.id, (await store.listMessages(inboxF.id)).map((m) => m.uid));
      const m7 = list.find((m) => m.subject === "Message 7")!;
      const m8 = list.find((m) => m.subject === "Message 8")!;
      if (env.imap) {
        await imap(env.srv.port("IMAP"), "alice@example.test", "alice-secret-1", `M.select('INBOX')\nM.uid('STORE', '${m7.uid}', '+FLAGS', '(\\\\Seen \\\\Flagged)')`);
      } else {
        // IMAP is not serving yet in this tree: make the same change through the store it would use.
        await store.storeFlags(inboxF.id, [m7.uid], "add", ["\\Seen", "\\Flagged"]);
      }
      const s = await c.sync(inbox);
      const ch = commandsOf(s.coll).changes.find((x) => kidText(x, "AirSync:ServerId") === serverIds.get("Message 7"));
      expect(ch).toBeTruthy();
      expect(kidText(appData(ch!), "Email:Read")).toBe("1");
      expect(kidText(kid(appData(ch!), "Email:Flag"), "Email:Status")).toBe("2");

      // ActiveSync marks Message 8 read and flagged.
      const r = await c.sync(inbox, {
        commands: [el("AirSync:Change", el("AirSync:ServerId", serverIds.get("Message 8")!), el("AirSync:ApplicationData", el("Email:Read", "1"), el("Email:Flag", el("Email:Status", "2"), el("Email:FlagType", "Follow up"))))],
      });
      expect(r.status).toBe("1");
      expect(kid(r.coll, "AirSync:Responses")).toBeUndefined(); // success is silent
      expect(commandsOf(r.coll).changes.length).toBe(0); // not echoed back
      if (env.imap) {
        const out = await imap(env.srv.port("IMAP"), "alice@example.test", "alice-secret-1", `M.select('INBOX')\nprint(M.uid('FETCH', '${m8.uid}', '(FLAGS)'))`);
        expect(out).toContain("\\\\Seen");
        expect(out).toContain("\\\\Flagged");
      } else {
        const [now8] = await store.getMessages(inboxF.id, [m8.uid]);
        expect(now8!.flags).toContain("\\Seen");
        expect(now8!.flags).toContain("\\Flagged");
      }
    });

    test("every request matched xml2wbxml and every response matched wbxml2xml", () => {
      if (!libwbxmlAvailable()) throw new Error("libwbxml2-utils is not installed (apt-get install libwbxml2-utils)");
      console.log(`protocol ${version}: libwbxml checked ${c.libwbxmlChecked.requests} requests, ${c.libwbxmlChecked.responses} responses (${c.libwbxmlChecked.skipped} skipped: Find page unknown to libwbxml); IMAP ${env.imap ? "over a real IMAP session" : "not serving yet: checked through the store"}`);
      expect(c.libwbxmlMismatches).toEqual([]);
      expect(c.libwbxmlChecked.requests).toBeGreaterThan(15);
      expect(c.libwbxmlChecked.responses).toBeGreaterThan(15);
    });
  });
}
