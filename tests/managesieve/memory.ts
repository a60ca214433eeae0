/**
 * Test doubles for the sans-IO ManageSieve session: an in-memory SieveStore
 * (RFC 5804's model: named scripts, at most one active) and a SieveIo that
 * records what the session writes.
 */
import { StoreError } from "../../storage/api.ts";
import type { SieveScriptInfo, SieveStore } from "../../storage/filter-api.ts";
import type { LoginResult } from "../../src/auth.ts";
import type { Account } from "../../storage/api.ts";
import { compile } from "../../src/sieve/compile.ts";
import { SIEVE_EXTENSIONS } from "../../src/sieve/types.ts";
import { SieveSession, type ManageSieveDeps, type SieveIo } from "../../protocols/managesieve/session.ts";
import "../../protocols/managesieve/auth.ts";
import "../../protocols/managesieve/scripts.ts";

export class MemorySieveStore implements SieveStore {
  readonly scripts = new Map<number, Map<string, { content: string; active: boolean; updatedAt: number }>>();
  /** Set to make every call fail like a busy database. */
  busy = false;

  private of(id: number) {
    if (this.busy) throw new Error("database is locked");
    let m = this.scripts.get(id);
    if (!m) this.scripts.set(id, (m = new Map()));
    return m;
  }
  async listScripts(id: number): Promise<SieveScriptInfo[]> {
    return [...this.of(id)].map(([name, s]) => ({ name, active: s.active, size: Buffer.byteLength(s.content), updatedAt: s.updatedAt }));
  }
  async getScript(id: number, name: string): Promise<string | null> {
    return this.of(id).get(name)?.content ?? null;
  }
  async putScript(id: number, name: string, content: string, limits: { maxScripts: number; maxBytes: number }): Promise<void> {
    const m = this.of(id);
    if (Buffer.byteLength(content) > limits.maxBytes) throw new StoreError("LIMIT", "script too large");
    if (!m.has(name) && m.size >= limits.maxScripts) throw new StoreError("LIMIT", "too many scripts");
    m.set(name, { content, active: m.get(name)?.active ?? false, updatedAt: Date.now() });
  }
  async deleteScript(id: number, name: string): Promise<boolean> {
    const m = this.of(id);
    const s = m.get(name);
    if (!s) return false;
    if (s.active) throw new StoreError("CANNOT", "active");
    return m.delete(name);
  }
  async renameScript(id: number, from: string, to: string): Promise<void> {
    const m = this.of(id);
    const s = m.get(from);
    if (!s) throw new StoreError("NONEXISTENT", from);
    if (m.has(to)) throw new StoreError("ALREADYEXISTS", to);
    m.delete(from);
    m.set(to, s);
  }
  async setActive(id: number, name: string | null): Promise<void> {
    const m = this.of(id);
    if (name !== null && !m.has(name)) throw new StoreError("NONEXISTENT", name);
    for (const [n, s] of m) s.active = n === name;
  }
  async activeScript(id: number): Promise<{ name: string; content: string; updatedAt: number } | null> {
    for (const [name, s] of this.of(id)) if (s.active) return { name, content: s.content, updatedAt: s.updatedAt };
    return null;
  }
  private readonly dup = new Map<string, number>();
  async duplicateSeen(id: number, key: string, now: number): Promise<boolean> {
    return (this.dup.get(`${id}\0${key}`) ?? 0) > now;
  }
  async duplicateRecord(id: number, key: string, expiresAt: number): Promise<void> {
    this.dup.set(`${id}\0${key}`, expiresAt);
  }
  private readonly vac = new Map<string, number>();
  async vacationLastSent(id: number, sender: string, handle: string): Promise<number | null> {
    return this.vac.get(`${id}\0${sender}\0${handle}`) ?? null;
  }
  async vacationRecordSent(id: number, sender: string, handle: string, at: number): Promise<void> {
    this.vac.set(`${id}\0${sender}\0${handle}`, at);
  }
  private readonly reports = new Set<string>();
  async claimErrorReport(id: number, digest: string): Promise<boolean> {
    const k = `${id}\0${digest}`;
    if (this.reports.has(k)) return false;
    this.reports.add(k);
    return true;
  }
}

/** Records output; `full` makes writes report a full buffer until `drain` is awaited. */
export class FakeIo implements SieveIo {
  out = "";
  closed = false;
  paused = false;
  full = false;
  drains = 0;
  tls: boolean | null = null;
  loginTimerOn: boolean | null = null;
  write(data: string | Uint8Array): boolean {
    this.out += typeof data === "string" ? data : Buffer.from(data).toString("latin1");
    return !this.full;
  }
  async drain(): Promise<void> {
    this.drains++;
  }
  async startTls(okLine: string): Promise<boolean> {
    this.out += okLine;
    return this.tls ?? true;
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
  loginTimer(on: boolean): void {
    this.loginTimerOn = on;
  }
  /** Everything written since the last call. */
  take(): string {
    const s = this.out;
    this.out = "";
    return s;
  }
}

export const TEST_ACCOUNT: Account = {
  id: 7,
  email: "erin@unit.test",
  domainId: 1,
  quotaBytes: null,
  usedBytes: 0,
  settings: {},
  createdAt: 0,
  admin: false,
  disabled: false,
};

/** A session over FakeIo and MemorySieveStore; the login accepts erin@unit.test / "pw". */
export function unitSession(opts: { secure?: boolean; maxScriptBytes?: number; maxScripts?: number; allowPlaintextAuth?: boolean; errors?: string[] } = {}) {
  const io = new FakeIo();
  const store = new MemorySieveStore();
  const errors = opts.errors ?? [];
  const log = {
    debug() {},
    info() {},
    warn() {},
    error(msg: string) {
      errors.push(msg);
    },
    child() {
      return log;
    },
  };
  const maxScriptBytes = opts.maxScriptBytes ?? 1024;
  const deps: ManageSieveDeps = {
    async login(user, pass): Promise<LoginResult> {
      if (user === TEST_ACCOUNT.email && pass === "pw") return { ok: true, account: TEST_ACCOUNT };
      if (user === "throttled@unit.test") return { ok: false, reason: "throttled", retryAfterMs: 1000 };
      return { ok: false, reason: "failed", retryAfterMs: 0 };
    },
    isBlocked: () => false,
    store,
    compile: (text) => compile(text, { limits: { maxScriptBytes } }),
    options: {
      hostname: "unit.test",
      allowPlaintextAuth: opts.allowPlaintextAuth ?? false,
      tlsAvailable: true,
      maxScripts: opts.maxScripts ?? 5,
      maxScriptBytes,
      maxRedirects: 4,
      extensions: SIEVE_EXTENSIONS,
    },
    log,
  };
  const session = new SieveSession(io, deps, "192.0.2.9", { secure: opts.secure ?? true });
  return { io, store, session, errors };
}
