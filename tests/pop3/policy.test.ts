/**
 * Maildrop policies over real sockets: leave-on-server (DELE moves to
 * Trash), UIDL stability across a server restart (same data dir), and the
 * size cache surviving the restart.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "../../protocols/pop3/index.ts";
import { createUser, startTestServer } from "../helpers/server.ts";
import { deliverTo, poplib, type Step } from "./util.ts";

const PW = "pop3 policy pw";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("leave on server", () => {
  test("DELE+QUIT moves the message to Trash instead of expunging it", async () => {
    const srv = await startTestServer({ listeners: ["POP3S"] });
    try {
      const acc = await createUser(srv.store, "keep@pop.test", PW);
      await srv.store.updateSettings(acc.id, { pop3LeaveOnServer: true });
      await deliverTo(srv.store, acc.id, "Subject: keep me\r\n\r\nhello\r\n");
      await deliverTo(srv.store, acc.id, "Subject: stays in inbox\r\n\r\nhello\r\n");
      const r = await poplib([
        ["a", "connect_ssl", srv.port("POP3S")],
        ["a", "auth_plain", "keep@pop.test", PW],
        ["a", "retr", 1],
        ["a", "dele", 1],
        ["a", "quit"],
      ]);
      expect(r[4]!.res).toContain("moved to Trash");
      const folders = await srv.store.listFolders(acc.id);
      const inbox = folders.find((f) => f.name === "INBOX")!;
      const trash = folders.find((f) => f.specialUse === "\\Trash")!;
      expect(trash).toBeDefined();
      const inInbox = await srv.store.listMessages(inbox.id);
      const inTrash = await srv.store.listMessages(trash.id);
      expect(inInbox.length).toBe(1);
      expect(inTrash.length).toBe(1);
      const moved = await srv.store.readMessage(inTrash[0]!.id);
      expect(new TextDecoder().decode(moved)).toContain("Subject: keep me");
      expect(inTrash[0]!.flags).toContain("\\Seen");
      // A later POP3 session no longer lists it.
      const r2 = await poplib([
        ["a", "connect_ssl", srv.port("POP3S")],
        ["a", "auth_plain", "keep@pop.test", PW],
        ["a", "stat"],
        ["a", "quit"],
      ]);
      expect(r2[2]!.res[0]).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test("without the policy, DELE+QUIT expunges (Trash stays empty)", async () => {
    const srv = await startTestServer({ listeners: ["POP3S"] });
    try {
      const acc = await createUser(srv.store, "gone@pop.test", PW);
      await deliverTo(srv.store, acc.id, "Subject: bye\r\n\r\nhello\r\n");
      await poplib([
        ["a", "connect_ssl", srv.port("POP3S")],
        ["a", "auth_plain", "gone@pop.test", PW],
        ["a", "dele", 1],
        ["a", "quit"],
      ]);
      const folders = await srv.store.listFolders(acc.id);
      let total = 0;
      for (const f of folders) total += (await srv.store.listMessages(f.id)).length;
      expect(total).toBe(0);
    } finally {
      await srv.close();
    }
  });
});

describe("UIDL across a restart", () => {
  test("the same messages keep the same unique ids after the server restarts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-pop3-restart-"));
    dirs.push(dataDir);
    const steps = (port: number): Step[] => [
        ["a", "connect_ssl", port],
        ["a", "auth_plain", "restart@pop.test", PW],
        ["a", "uidl"],
        ["a", "list"],
      ["a", "quit"],
    ];
    let first: Awaited<ReturnType<typeof poplib>>;
    {
      const srv = await startTestServer({ listeners: ["POP3S"], dataDir });
      try {
        const acc = await createUser(srv.store, "restart@pop.test", PW);
        await deliverTo(srv.store, acc.id, "Subject: 1\r\n\r\none\r\n");
        await deliverTo(srv.store, acc.id, "Subject: 2\n\ntwo with bare LF\n");
        await deliverTo(srv.store, acc.id, "Subject: 3\r\n\r\nthree\r\n");
        first = await poplib(steps(srv.port("POP3S")));
        // delete the middle one so numbering shifts but ids must not
        await poplib([
          ["a", "connect_ssl", srv.port("POP3S")],
          ["a", "auth_plain", "restart@pop.test", PW],
          ["a", "dele", 2],
          ["a", "quit"],
        ]);
      } finally {
        await srv.close();
      }
    }
    const srv = await startTestServer({ listeners: ["POP3S"], dataDir });
    try {
      const second = await poplib(steps(srv.port("POP3S")));
      const ids1 = first[2]!.res.lines.map((l: string) => l.split(" ")[1]);
      const ids2 = second[2]!.res.lines.map((l: string) => l.split(" ")[1]);
      expect(ids1.length).toBe(3);
      expect(new Set(ids1).size).toBe(3);
      expect(ids2).toEqual([ids1[0], ids1[2]]);
      // sizes (recorded by the store at delivery) are unchanged too; the bare-LF message counts in CRLF form
      expect(Number(first[3]!.res.lines[1]!.split(" ")[1])).toBe("Subject: 2\r\n\r\ntwo with bare LF\r\n".length);
      const sizes1 = first[3]!.res.lines.map((l: string) => l.split(" ")[1]);
      const sizes2 = second[3]!.res.lines.map((l: string) => l.split(" ")[1]);
      expect(sizes2).toEqual([sizes1[0], sizes1[2]]);
      for (const id of ids2) expect(id).toMatch(/^[\x21-\x7e]{1,70}$/); // RFC 1939 §7 unique-id syntax
    } finally {
      await srv.close();
    }
  });
});
