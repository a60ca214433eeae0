/** Shared helpers for the storage tests: temporary stores and message builders. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type SqlMailStore } from "../../storage/store.ts";
import { dropPgSchema, freshPgUrl, type Engine } from "../helpers/engines.ts";
import { passwordHasher } from "../../src/auth.ts";

export const BUN = join(import.meta.dir, "../../node_modules/.bin/bun");

export interface TempStore {
  dir: string;
  url: string;
  store: SqlMailStore;
  reopen(): Promise<SqlMailStore>;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = "pb-storage-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A store in a temporary directory. `engine: "postgres"` puts its database in
 * a fresh schema of PILLARBOX_TEST_PG_URL's database (tests/helpers/engines.ts),
 * dropped by cleanup(); blobs stay in the directory on either engine.
 */
export async function tempStore(opts: { gcGraceMs?: number; driver?: "native" | "client"; engine?: Engine } = {}): Promise<TempStore> {
  const dir = tempDir();
  const pg = opts.engine === "postgres";
  const url = pg ? await freshPgUrl("store") : `file:${join(dir, "mail.db")}`;
  const t: TempStore = {
    dir,
    url,
    store: await openStore({ hasher: passwordHasher, url, dataDir: dir, gcGraceMs: opts.gcGraceMs, driver: opts.driver }),
    async reopen() {
      await t.store.close();
      t.store = await openStore({ hasher: passwordHasher, url, dataDir: dir, gcGraceMs: opts.gcGraceMs, driver: opts.driver });
      return t.store;
    },
    async cleanup() {
      await t.store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      if (pg) await dropPgSchema(url);
    },
  };
  return t;
}

const enc = new TextEncoder();
export const bytes = (s: string) => enc.encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A small RFC 5322 message. */
export function makeMessage(o: { subject?: string; from?: string; to?: string; body?: string; messageId?: string; inReplyTo?: string; size?: number } = {}): Uint8Array {
  const head =
    `From: ${o.from ?? "Sender <sender@example.net>"}\r\n` +
    `To: ${o.to ?? "user@example.com"}\r\n` +
    `Subject: ${o.subject ?? "test"}\r\n` +
    `Date: Mon, 2 Jan 2006 15:04:05 -0700\r\n` +
    (o.messageId ? `Message-ID: ${o.messageId}\r\n` : "") +
    (o.inReplyTo ? `In-Reply-To: ${o.inReplyTo}\r\n` : "") +
    `Content-Type: text/plain; charset=utf-8\r\n\r\n`;
  let body = o.body ?? "Hello.\r\n";
  if (o.size) while (head.length + body.length < o.size) body += "filler line of text for size padding.\r\n";
  return enc.encode(head + body);
}

export async function setupAccount(store: SqlMailStore, email = "user@example.com", quotaBytes: number | null = null) {
  const domain = email.slice(email.indexOf("@") + 1);
  if (!(await store.isLocalDomain(domain))) await store.addDomain(domain);
  const account = await store.addAccount(email, "secret-password", { quotaBytes });
  const inbox = (await store.getFolder(account.id, "INBOX"))!;
  return { account, inbox };
}

/** Lines for CI (bun's own summary format is not read there). */
export function strictlyAscending(xs: number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i] > xs[i - 1])) return false;
  return true;
}
