/**
 * An in-memory stand-in for the few store methods POP3 uses, plus a fake
 * connection, so the session state machine is tested without sockets.
 */
import type { Account, Folder, MessageSummary, StoreEvent } from "../../storage/api.ts";
import type { Pop3Store } from "../../protocols/pop3/maildrop.ts";
import { crlfSize } from "../../mail/crlf.ts";
import { MaildropLocks } from "../../protocols/pop3/locks.ts";
import { memorySizeCache, type SizeCache } from "../../protocols/pop3/sizes.ts";
import { Pop3Session, type Pop3Deps, type Pop3Io, type Pop3Options } from "../../protocols/pop3/session.ts";
import { createLogger } from "../../src/log.ts";

interface FakeMsg {
  id: number;
  uid: number;
  raw: Uint8Array;
  flags: string[];
}

export class FakeStore implements Pop3Store {
  folders: Folder[] = [];
  msgs = new Map<number, FakeMsg[]>();
  accounts = new Map<number, Account>();
  calls: string[] = [];
  reads = 0;
  failExpunge = false;
  private nextId = 1;

  addAccount(id: number, email: string, settings: Account["settings"] = {}): Account {
    const a: Account = { id, email, domainId: 1, quotaBytes: null, usedBytes: 0, settings, createdAt: 0, admin: false, disabled: false };
    this.accounts.set(id, a);
    this.addFolder(id, "INBOX");
    return a;
  }

  addFolder(accountId: number, name: string, specialUse: Folder["specialUse"] = null): Folder {
    const f: Folder = {
      id: this.folders.length + 1,
      accountId,
      name,
      parentId: null,
      itemClass: "mail",
      specialUse,
      subscribed: true,
      uidValidity: 1000 + this.folders.length,
      uidNext: 1,
      highestModseq: 1,
      props: {},
    };
    this.folders.push(f);
    this.msgs.set(f.id, []);
    return f;
  }

  deliver(accountId: number, raw: string | Uint8Array, flags: string[] = []): FakeMsg {
    const f = this.folders.find((x) => x.accountId === accountId && x.name === "INBOX")!;
    const m = { id: this.nextId++, uid: f.uidNext++, raw: typeof raw === "string" ? new TextEncoder().encode(raw) : raw, flags };
    this.msgs.get(f.id)!.push(m);
    return m;
  }

  inbox(accountId: number): FakeMsg[] {
    const f = this.folders.find((x) => x.accountId === accountId && x.name === "INBOX")!;
    return this.msgs.get(f.id)!;
  }

  folderMsgs(accountId: number, name: string): FakeMsg[] {
    const f = this.folders.find((x) => x.accountId === accountId && x.name === name);
    return f ? this.msgs.get(f.id)! : [];
  }

  async getAccountById(id: number) {
    return this.accounts.get(id) ?? null;
  }
  async getFolder(accountId: number, name: string) {
    return this.folders.find((f) => f.accountId === accountId && f.name === name) ?? null;
  }
  async listFolders(accountId: number) {
    return this.folders.filter((f) => f.accountId === accountId);
  }
  async createFolder(accountId: number, name: string, opts?: { specialUse?: Folder["specialUse"] }) {
    this.calls.push(`createFolder ${name}`);
    return this.addFolder(accountId, name, opts?.specialUse ?? null);
  }
  async listMessages(folderId: number): Promise<MessageSummary[]> {
    return this.msgs.get(folderId)!.map((m) => ({ id: m.id, uid: m.uid, modseq: 1, flags: [...m.flags], internalDate: 0, size: m.raw.length }));
  }
  /** Like the real store since migration 0004: CRLF sizes recorded at ingest. Off: every message predates it. */
  recordSizes = false;
  /** How often the recorded sizes were asked for (the login-time query protocols/pop3/recorded-sizes.ts saves). */
  crlfSizeQueries = 0;
  async crlfSizes(folderId: number): Promise<Map<number, number>> {
    this.crlfSizeQueries++;
    const out = new Map<number, number>();
    if (this.recordSizes) for (const m of this.msgs.get(folderId)!) out.set(m.uid, crlfSize(m.raw));
    return out;
  }
  async blobIdsByUid(folderId: number, fromUid: number, toUid: number): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const m of this.msgs.get(folderId)!) if (m.uid >= fromUid && m.uid <= toUid) out.set(m.uid, `blob-${m.id}`);
    return out;
  }
  /** Blob ids stay readable after the row goes, as on disk until collection. */
  private rawOfBlob(blobId: string): Uint8Array | null {
    const id = Number(blobId.slice(5));
    for (const list of this.msgs.values()) {
      const m = list.find((x) => x.id === id);
      if (m) return m.raw;
    }
    return this.removed.get(id) ?? null;
  }
  removed = new Map<number, Uint8Array>();
  listeners = new Set<(e: StoreEvent) => void>();
  events = {
    subscribe: (_accountId: number, l: (e: StoreEvent) => void) => {
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    },
  };
  async readRange(blobId: string, start: number, end: number): Promise<Uint8Array> {
    this.reads++;
    const raw = this.rawOfBlob(blobId);
    if (!raw) throw new Error("no such blob");
    return raw.subarray(start, end);
  }
  async expunge(folderId: number, uids?: number[]): Promise<number[]> {
    this.calls.push(`expunge ${folderId} ${uids?.join(",")}`);
    if (this.failExpunge) throw new Error("disk on fire");
    const list = this.msgs.get(folderId)!;
    const gone = list.filter((m) => uids!.includes(m.uid)).map((m) => m.uid);
    for (const m of list) if (uids!.includes(m.uid)) this.removed.set(m.id, m.raw);
    const f = this.folders.find((x) => x.id === folderId)!;
    for (const l of this.listeners) l({ type: "expunge", accountId: f.accountId, folderId, uids: gone, ids: [], modseq: 1 });
    this.msgs.set(
      folderId,
      list.filter((m) => !uids!.includes(m.uid)),
    );
    return gone;
  }
  async move(from: number, uids: number[], to: number) {
    this.calls.push(`move ${from} ${uids.join(",")} ${to}`);
    const list = this.msgs.get(from)!;
    const dest = this.folders.find((f) => f.id === to)!;
    const mapping: [number, number][] = [];
    for (const m of list.filter((x) => uids.includes(x.uid))) {
      const nu = dest.uidNext++;
      mapping.push([m.uid, nu]);
      this.msgs.get(to)!.push({ ...m, uid: nu });
    }
    this.msgs.set(
      from,
      list.filter((m) => !uids.includes(m.uid)),
    );
    return { uidValidity: dest.uidValidity, mapping };
  }
  async storeFlags(folderId: number, uids: number[], mode: "set" | "add" | "remove", flags: string[]) {
    this.calls.push(`flags ${mode} ${flags.join(" ")} ${uids.join(",")}`);
    for (const m of this.msgs.get(folderId)!) if (uids.includes(m.uid)) m.flags = [...new Set([...m.flags, ...flags])];
    return { updated: [], modified: [] };
  }
  blobs = {
    stream: (blobId: string): ReadableStream<Uint8Array> => {
      const raw = this.rawOfBlob(blobId);
      let off = 0;
      return new ReadableStream({
        pull(c) {
          if (!raw) return c.error(new Error("gone"));
          if (off >= raw.length) return c.close();
          c.enqueue(raw.slice(off, off + 7000));
          off += 7000;
        },
      });
    },
  };
}

export class FakeIo implements Pop3Io {
  out: Uint8Array[] = [];
  closed = false;
  paused = false;
  tlsStarted = 0;
  tlsFails = false;
  write(data: string | Uint8Array): boolean {
    this.out.push(typeof data === "string" ? new TextEncoder().encode(data) : data.slice());
    return true;
  }
  async drain(): Promise<void> {}
  async startTls(okLine: string): Promise<boolean> {
    this.write(okLine);
    this.tlsStarted++;
    return !this.tlsFails;
  }
  pauseInput(): void {
    this.paused = true;
  }
  resumeInput(): void {
    this.paused = false;
  }
  close(): void {
    this.closed = true;
  }
  /** Work deferred to an idle event loop (read-ahead); runs only when a test calls `runIdle`. */
  idle: (() => void)[] = [];
  whenIdle(fn: () => void): () => void {
    this.idle.push(fn);
    return () => {
      this.idle = this.idle.filter((f) => f !== fn);
    };
  }
  async runIdle(): Promise<number> {
    const tasks = this.idle;
    this.idle = [];
    for (const f of tasks) f();
    // Let the deferred reads settle.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return tasks.length;
  }
  text(): string {
    return Buffer.concat(this.out).toString("latin1");
  }
  take(): string {
    const t = this.text();
    this.out = [];
    return t;
  }
}

export interface Harness {
  store: FakeStore;
  deps: Pop3Deps;
  blocked: Set<string>;
  session(opts?: { secure?: boolean; ip?: string }): { s: Pop3Session; io: FakeIo; cmd(line: string): Promise<string>; raw(bytes: string): Promise<string> };
}

export function harness(opts: Partial<Pop3Options> = {}, sizes: SizeCache = memorySizeCache()): Harness {
  const store = new FakeStore();
  const users = new Map<string, { password: string; id: number }>();
  const alice = store.addAccount(1, "alice@example.test");
  users.set("alice@example.test", { password: "secret pw", id: alice.id });
  const bob = store.addAccount(2, "bob@example.test");
  users.set("bob@example.test", { password: "hunter2", id: bob.id });
  const blocked = new Set<string>();
  const deps: Pop3Deps = {
    store,
    async authenticate(user, pass) {
      const u = users.get(user.toLowerCase());
      if (!u || u.password !== pass) return null;
      return store.accounts.get(u.id)!;
    },
    isBlocked: (ip) => blocked.has(ip),
    locks: new MaildropLocks(),
    sizes,
    loginTimes: new Map(),
    options: { hostname: "mail.test", allowPlaintextAuth: false, tlsAvailable: true, loginDelaySeconds: null, expire: null, ...opts },
    log: createLogger("error", {}, () => {}),
  };
  return {
    store,
    deps,
    blocked,
    session(o = {}) {
      const io = new FakeIo();
      const s = new Pop3Session(io, deps, o.ip ?? "192.0.2.1", { secure: o.secure ?? false });
      s.greet();
      const settle = () => s.whenIdle();
      return {
        s,
        io,
        async raw(bytes: string) {
          io.take();
          s.receive(new TextEncoder().encode(bytes));
          await settle();
          return io.take();
        },
        async cmd(line: string) {
          io.take();
          s.receive(new TextEncoder().encode(line + "\r\n"));
          await settle();
          return io.take();
        },
      };
    },
  };
}
