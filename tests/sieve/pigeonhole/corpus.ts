/**
 * The differential test's corpus (tests/sieve/corpus/): Sieve scripts
 * (scripts/*.sieve), messages (messages/*.eml, stored with LF and sent with
 * CRLF) and manifest.json, which names each message's envelope and the pairs:
 * a script with one message, or with a short sequence of messages delivered
 * one after the other to the same mailbox (vacation's once-per-period rule,
 * duplicate). `headers` lists header fields whose stored values are compared
 * (editheader); `peerScript` names a file under peer/ run on Pigeonhole
 * instead (an extension Pigeonhole lacks, see DELIBERATE in ../pigeonhole.test.ts).
 *
 * Each pair gets its own tag in the Message-ID (`<plain-1.p17@sender.test>`,
 * the same for every message of its sequence so `duplicate` still sees one
 * id), so every message that leaves either server (a redirect carries the
 * Message-ID, a vacation reply and a rejection notice refer to it) is
 * attributed to its pair however late it is sent.
 */
import { accessSync, constants, readFileSync, readdirSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Where the two servers keep their throw-away data: /dev/shm (tmpfs) when it
 * is there with room to spare (a run leaves ~45 MB, mostly SQLite's WAL; a
 * container's /dev/shm is often only 64 MB), so the hundreds of small
 * committed deliveries do not wait on a disk shared with other test files;
 * the system temp dir otherwise.
 */
export function scratchDir(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    const fs = statfsSync("/dev/shm");
    if (fs.bavail * fs.bsize >= 512 * 1024 * 1024) return "/dev/shm";
  } catch {
    /* no usable /dev/shm */
  }
  return tmpdir();
}

export const CORPUS_DIR = join(import.meta.dir, "..", "corpus");

export interface CorpusMessage {
  name: string;
  from: string;
  to: string;
  raw: Buffer;
  messageId: string | null;
}

export interface CorpusPair {
  /** "script × message" or "script × m1 → m2" */
  id: string;
  /** ".p17@": appears in every message of the pair and in everything sent about them. */
  tag: string;
  script: string;
  text: string;
  peerText: string;
  messages: CorpusMessage[];
  headers: string[];
}

export interface Corpus {
  user: string;
  scripts: string[];
  messages: Map<string, CorpusMessage>;
  pairs: CorpusPair[];
}

interface Manifest {
  user: string;
  messages: Record<string, { file: string; from: string; to: string }>;
  pairs: { script: string; messages: string[]; headers?: string[]; peerScript?: string }[];
}

export function loadCorpus(): Corpus {
  const man = JSON.parse(readFileSync(join(CORPUS_DIR, "manifest.json"), "utf8")) as Manifest;
  const messages = new Map<string, CorpusMessage>();
  for (const [name, m] of Object.entries(man.messages)) {
    const raw = Buffer.from(readFileSync(join(CORPUS_DIR, m.file), "utf8").replace(/\r?\n/g, "\r\n"), "utf8");
    const id = /^message-id:\s*(<[^>]*>)/im.exec(raw.toString("latin1").split("\r\n\r\n")[0]!)?.[1] ?? null;
    messages.set(name, { name, from: m.from, to: m.to, raw, messageId: id });
  }
  const scripts = readdirSync(join(CORPUS_DIR, "scripts"))
    .filter((f) => f.endsWith(".sieve"))
    .map((f) => f.slice(0, -6))
    .sort();
  const pairs = man.pairs.map((p, index): CorpusPair => {
    const tag = `.p${index}@`;
    const text = readFileSync(join(CORPUS_DIR, "scripts", `${p.script}.sieve`), "utf8");
    const msgs = p.messages.map((n) => {
      const m = messages.get(n);
      if (!m) throw new Error(`manifest: no message ${n}`);
      return tagged(m, tag);
    });
    return {
      id: `${p.script} × ${p.messages.join(" → ")}`,
      tag,
      script: p.script,
      text,
      peerText: p.peerScript ? readFileSync(join(CORPUS_DIR, "peer", `${p.peerScript}.sieve`), "utf8") : text,
      messages: msgs,
      headers: p.headers ?? [],
    };
  });
  return { user: man.user, scripts, messages, pairs };
}

/** The message with the pair's tag before the "@" of its Message-ID. */
function tagged(m: CorpusMessage, tag: string): CorpusMessage {
  if (!m.messageId) throw new Error(`corpus message ${m.name} has no Message-ID`);
  const id = m.messageId.replace("@", tag);
  const text = m.raw.toString("latin1");
  const at = text.toLowerCase().indexOf(`message-id: ${m.messageId.toLowerCase()}`);
  if (at < 0) throw new Error(`corpus message ${m.name}: write its Message-ID field as "Message-ID: <...>"`);
  const raw = Buffer.from(text.slice(0, at) + `Message-ID: ${id}` + text.slice(at + 12 + m.messageId.length), "latin1");
  return { ...m, raw, messageId: id };
}
