/** The import's pure parts: folder mapping, address parsing, the SSRF address table, From_ lines, UID sets, the progress bar. */
import { describe, expect, test } from "bun:test";
import { mapFolders } from "../../src/import/folder-map.ts";
import { parseImapUrl } from "../../src/cli/import.ts";
import { isInternalAddress, vetHost } from "../../src/import/address-check.ts";
import { asctime, isFromLine, mboxEntry, parseFromLineDate } from "../../src/import/mbox.ts";
import { uidSet } from "../../src/import/imap-import.ts";
import { createProgress } from "../../src/import/progress.ts";
import { flagsFromName } from "../../src/import/maildir.ts";

describe("folder mapping (RFC 6154 attributes, else names)", () => {
  test("Gmail: [Gmail] parent dropped, All Mail and Starred skipped, Sent Mail and Bin mapped by attribute", () => {
    const m = mapFolders([
      { path: "INBOX", delimiter: "/" },
      { path: "[Gmail]/All Mail", delimiter: "/", specialUse: "\\All" },
      { path: "[Gmail]/Starred", delimiter: "/", specialUse: "\\Flagged" },
      { path: "[Gmail]/Sent Mail", delimiter: "/", specialUse: "\\Sent" },
      { path: "[Gmail]/Bin", delimiter: "/", specialUse: "\\Trash" },
      { path: "[Gmail]/Important", delimiter: "/" },
      { path: "Receipts/2024", delimiter: "/" },
    ]);
    expect(m.get("[Gmail]/All Mail")!.skip).toContain("virtual");
    expect(m.get("[Gmail]/Starred")!.skip).toBeDefined();
    expect(m.get("[Gmail]/Sent Mail")).toEqual({ name: "Sent", specialUse: "\\Sent" });
    expect(m.get("[Gmail]/Bin")).toEqual({ name: "Trash", specialUse: "\\Trash" });
    expect(m.get("[Gmail]/Important")!.name).toBe("Important");
    expect(m.get("Receipts/2024")!.name).toBe("Receipts/2024");
  });

  test("Courier-style INBOX. prefix, Outlook and localized names, an announced attribute wins over a name", () => {
    const m = mapFolders([
      { path: "INBOX", delimiter: "." },
      { path: "INBOX.Sent Items", delimiter: "." },
      { path: "INBOX.Deleted Items", delimiter: "." },
      { path: "INBOX.Gesendete Objekte", delimiter: "." },
      { path: "INBOX.Junk E-mail", delimiter: "." },
      { path: "INBOX.Work.a/b", delimiter: "." },
    ]);
    expect(m.get("INBOX.Sent Items")).toEqual({ name: "Sent", specialUse: "\\Sent" });
    expect(m.get("INBOX.Deleted Items")).toEqual({ name: "Trash", specialUse: "\\Trash" });
    expect(m.get("INBOX.Gesendete Objekte")!.name).toBe("Gesendete Objekte"); // \Sent already taken
    expect(m.get("INBOX.Junk E-mail")).toEqual({ name: "Junk", specialUse: "\\Junk" });
    expect(m.get("INBOX.Work.a/b")!.name).toBe("Work/a-b");
    const n = mapFolders([
      { path: "Sent", delimiter: "/" },
      { path: "Envoyés", delimiter: "/", specialUse: "\\Sent" },
      { path: "Papelera", delimiter: "/" },
    ]);
    expect(n.get("Envoyés")!.name).toBe("Sent");
    expect(n.get("Sent")!.name).toBe("Sent"); // keeps its name as an ordinary folder
    expect(n.get("Sent")!.specialUse).toBeNull();
    expect(n.get("Papelera")).toEqual({ name: "Trash", specialUse: "\\Trash" });
  });
});

describe("imap:// addresses", () => {
  test("defaults, ports, users with @, IPv6, and refusals", () => {
    expect(parseImapUrl("imaps://ann@mail.example.org")).toEqual({ host: "mail.example.org", port: 993, tls: "implicit", user: "ann" });
    expect(parseImapUrl("imap://ann@example.org@mail.example.org:1143")).toEqual({ host: "mail.example.org", port: 1143, tls: "starttls", user: "ann@example.org" });
    expect(parseImapUrl("imaps://a%40b.c@[::1]:993").host).toBe("::1");
    expect(() => parseImapUrl("imap://ann:secret@host")).toThrow("do not put the password");
    expect(() => parseImapUrl("pop3://ann@host")).toThrow("not an IMAP address");
    expect(() => parseImapUrl("imap://host")).toThrow("names no user");
    expect(() => parseImapUrl("imap://u@host:99999")).toThrow("bad port");
    expect(() => parseImapUrl("imap://u@ho st")).toThrow("bad host");
    expect(() => parseImapUrl("imap://%zz@host")).toThrow("%-escape");
  });
});

describe("SSRF guard", () => {
  test("internal addresses", () => {
    for (const a of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1", "fd12::3", "::ffff:10.0.0.1", "64:ff9b::127.0.0.1", "ff02::1", "not-an-ip"]) expect(isInternalAddress(a)).toBe(true);
    for (const a of ["8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "2a00:1450:4001::1"]) expect(isInternalAddress(a)).toBe(false);
  });
  test("a name resolving to any internal address is refused; allowed when the admin says so", async () => {
    const fake = (addrs: string[]) => async () => addrs.map((address) => ({ address }));
    await expect(vetHost("mail.example.org", false, fake(["93.184.216.34", "10.0.0.5"]))).rejects.toThrow("private or local network");
    expect(await vetHost("mail.example.org", false, fake(["93.184.216.34"]))).toBe("93.184.216.34");
    expect(await vetHost("mail.example.org", true, fake(["10.0.0.5"]))).toBe("10.0.0.5");
    await expect(vetHost("nowhere.invalid", false, async () => { throw new Error("ENOTFOUND"); })).rejects.toThrow("was not found");
  });
});

describe("mbox and maildir details", () => {
  test("From_ lines: asctime dates parsed as UTC; body lines are not separators", () => {
    expect(parseFromLineDate("From ann@example.org Thu Nov 24 18:22:48 1986")).toBe(Date.UTC(1986, 10, 24, 18, 22, 48));
    expect(parseFromLineDate("From MAILER-DAEMON Mon Jan  4 09:08:07 2021")).toBe(Date.UTC(2021, 0, 4, 9, 8, 7));
    expect(isFromLine("From here on we talk about it")).toBe(false);
    expect(asctime(Date.UTC(2021, 0, 4, 9, 8, 7))).toBe("Mon Jan  4 09:08:07 2021");
    const e = Buffer.concat(mboxEntry(Buffer.from("A: b\n\nFrom x\n>From y\nz"), 0)).toString();
    expect(e).toBe("From MAILER-DAEMON Thu Jan  1 00:00:00 1970\nA: b\n\n>From x\n>>From y\nz\n\n");
  });
  test("maildir flag letters", () => {
    expect(flagsFromName("1.M1.host:2,DFRST", [])).toEqual(["\\Draft", "\\Flagged", "\\Answered", "\\Seen", "\\Deleted"]);
    expect(flagsFromName("1.M1.host:2,Sab", ["$Forwarded", "Work"])).toEqual(["\\Seen", "$Forwarded", "Work"]);
    expect(flagsFromName("1.M1.host:2,z", ["x"])).toEqual([]);
    expect(flagsFromName("1.M1.host", [])).toEqual([]);
  });
  test("UID sets", () => {
    expect(uidSet([1, 2, 3, 5, 7, 8])).toBe("1:3,5,7:8");
    expect(uidSet([42])).toBe("42");
  });
});

test("progress: a bar with counts, percent, rate and ETA on a terminal; plain lines otherwise", () => {
  let now = 0;
  const out: string[] = [];
  const bar = createProgress((s) => out.push(s), true, () => now);
  now = 10_000;
  bar.update({ folder: "INBOX", done: 500, total: 2000 });
  bar.end();
  expect(out[0]).toBe("\r\x1b[K[######..................] 500/2000 25%  50 msg/s  ETA 0:30  INBOX");
  expect(out[1]).toBe("\n");
  const plain: string[] = [];
  const p = createProgress((s) => plain.push(s), false, () => now);
  now = 20_000;
  p.update({ folder: "Sent", done: 1000, total: 1000 });
  expect(plain[0]).toBe("1000/1000 messages (100%), 100 msg/s, ETA 0:00, folder Sent\n");
});
