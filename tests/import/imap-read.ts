/** Reads a whole mailbox tree over IMAP (imapflow) for side-by-side comparisons: per folder, in UID order, flags, internal date and the bytes' SHA-256. */
import { createHash } from "node:crypto";
import { ImapFlow } from "imapflow";

export interface ReadMessage {
  flags: string[];
  internalDate: number;
  sha: string;
  size: number;
}

export interface ReadFolder {
  name: string;
  specialUse: string | null;
  messages: ReadMessage[];
}

export async function readTree(opts: { host: string; port: number; user: string; pass: string; tls?: "implicit" | "none"; bodies?: boolean }): Promise<Map<string, ReadFolder>> {
  const c = new ImapFlow({
    host: opts.host,
    port: opts.port,
    secure: opts.tls === "implicit",
    doSTARTTLS: false,
    tls: { rejectUnauthorized: false },
    auth: { user: opts.user, pass: opts.pass },
    logger: false,
    disableAutoIdle: true,
  });
  c.on("error", () => {});
  await c.connect();
  const out = new Map<string, ReadFolder>();
  try {
    for (const l of await c.list()) {
      if (l.flags.has("\\Noselect")) continue;
      const box = await c.mailboxOpen(l.path, { readOnly: true });
      const msgs: ReadMessage[] = [];
      if (box.exists > 0) {
        for await (const m of c.fetch("1:*", { uid: true, flags: true, internalDate: true, size: true, source: opts.bodies !== false }, { uid: true })) {
          msgs.push({
            flags: [...(m.flags ?? [])].filter((f) => f !== "\\Recent").sort(),
            internalDate: new Date(m.internalDate as Date).getTime(),
            sha: m.source ? createHash("sha256").update(m.source).digest("hex") : "",
            size: m.size ?? 0,
          });
        }
      }
      out.set(l.path, { name: l.path, specialUse: l.specialUseSource === "extension" ? (l.specialUse ?? null) : null, messages: msgs });
    }
  } finally {
    await c.logout().catch(() => c.close());
  }
  return out;
}
