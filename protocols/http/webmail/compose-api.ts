/**
 * Compose: attachment uploads, reply/forward templates, drafts (autosaved
 * into \Drafts, each save replacing the previous one) and sending through
 * the shared submission path (`ctx.submit`: sender checks, DKIM, local
 * delivery and queue, copy in \Sent).
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Account } from "../../../storage/api.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";
import type { AppEnv } from "../types.ts";
import { ApiError, readJson, safeContentType } from "./util.ts";
import {
  buildMessage,
  escapeHtml,
  htmlToText,
  parseAddressList,
  peopleText,
  prefixSubject,
  textToHtml,
  toReadView,
  type OutgoingAttachment,
  type Person,
} from "./mime.ts";
import { attachmentContent, ownedMessage, specialFolder, type ParsedCache } from "./mail-api.ts";
import type { UploadStore } from "./uploads.ts";
import { identityFor } from "./identities.ts";
import { encodedSize, largestFile } from "./api-types.ts";
import { formatMailDate } from "../../../mail/date.ts";
import { quoteTexts } from "./quote-i18n.ts";
import { sendDelayOf, SOURCE_HEADER, type SendScheduler } from "./send-delay.ts";

export interface ComposeDeps {
  ctx: ServerContext;
  wstore: WebmailStore;
  parsed: ParsedCache;
  uploads: UploadStore;
  /** Holds sends for the account's send delay (send-delay.ts); absent = send at once. */
  sendLater?: SendScheduler;
}

type AttachmentRef = { upload: string } | { message: number; index: number } | { forward: number };

interface ComposeBody {
  draftId?: number | null;
  from?: string;
  to?: string;
  cc?: string;
  bcc?: string;
  subject?: string;
  html?: string | null;
  text?: string;
  attachments?: AttachmentRef[];
  inReplyTo?: string | null;
  references?: string[];
  /** The message this answers or forwards, to flag it \Answered / $Forwarded once sent. */
  source?: { id: number; mode: "reply" | "forward" } | null;
}

const MAX_BODY = 8 * 1024 * 1024;

export function mountComposeApi(app: Hono<AppEnv>, deps: ComposeDeps): void {
  const { ctx, uploads, wstore } = deps;
  const store = ctx.store;
  const maxSize = ctx.config.limits.maxMessageSize;

  app.post("/api/uploads", async (c) => {
    const account = c.get("account");
    const len = Number(c.req.header("content-length") ?? "0");
    if (len > maxSize + 64 * 1024) throw new ApiError(413, "too_large", `That file is too large. The limit is ${mb(maxSize)}.`);
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch {
      throw new ApiError(400, "bad_upload", "The file could not be uploaded. Please try again.");
    }
    const file = form.get("file");
    if (!file || typeof file === "string") throw new ApiError(400, "bad_upload", "No file was received.");
    // The file travels base64-encoded (RFC 2045 §6.8): 4 characters per 3 bytes plus a CRLF every
    // 76 characters, about 1.37 times its size. The limit applies to the encoded message, so a file
    // is refused here when its encoded form alone would not fit (42.9 MB becomes 59 MB).
    if (encodedSize(file.size) > maxSize) throw new ApiError(413, "too_large", tooLargeText(file.size, maxSize));
    const data = new Uint8Array(await file.arrayBuffer());
    try {
      const meta = await uploads.put(account.id, file.name || "attachment", safeContentType(file.type), data);
      return c.json({ id: meta.id, name: meta.name, size: meta.size, type: meta.type }, 201);
    } catch (err) {
      if (err instanceof RangeError) throw new ApiError(413, "upload_space", "You have too many large attachments waiting. Send or discard a draft first.");
      throw err;
    }
  });

  app.delete("/api/uploads/:id", async (c) => {
    await uploads.remove(c.get("account").id, c.req.param("id"));
    return c.json({ ok: true });
  });

  /** A ready-made compose form for reply / reply-all / forward / editing a draft. */
  app.get("/api/messages/:id/compose", async (c) => {
    const account = c.get("account");
    const mode = c.req.query("mode") ?? "reply";
    const m = await ownedMessage(ctx, account, Number(c.req.param("id")));
    const email = await deps.parsed.get(ctx, m);
    const v = toReadView(email, m.root);
    const me = new Set((await store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()));
    const fromLine = peopleText(v.from);
    const date = v.date ? new Date(v.date) : new Date(m.internalDate);
    // The quote line's date in the reader's language and time zone when the client says which
    // (?lang=de-DE&tz=Europe/Berlin), else as a Date field writes it (RFC 5322 §3.3).
    const dateText = Number.isNaN(date.getTime()) ? String(v.date ?? "") : localDate(date, c.req.query("lang"), c.req.query("tz"));
    // The words around the date in the date's language (item 12); English with the RFC 5322 date.
    const q = quoteTexts(!Number.isNaN(date.getTime()) && dateText !== formatMailDate(date) ? c.req.query("lang") : undefined);
    // The identity to answer from: the first of the user's own addresses the original was sent to.
    const ownAddress = [...v.to, ...v.cc].map((p) => p.address.toLowerCase()).find((x) => me.has(x)) ?? null;
    const bodyHtml = v.html ?? (v.text !== null ? `<div>${textToHtml(v.text)}</div>` : "");
    const bodyText = v.text ?? (v.html ? htmlToText(v.html) : "");
    const refs = [...v.references, ...(v.messageId ? [v.messageId] : [])].slice(-30);

    if (mode === "edit") {
      return c.json({
        draftId: m.folderId === (await specialFolder(ctx, account.id, "\\Drafts")).id ? m.id : null,
        to: peopleText(v.to),
        cc: peopleText(v.cc),
        bcc: peopleText(v.bcc),
        subject: v.subject,
        html: v.html,
        text: v.text ?? "",
        inReplyTo: v.inReplyTo,
        references: v.references,
        attachments: v.attachments.map((a) => ({ ref: { message: m.id, index: a.index }, name: a.filename, size: a.size, type: a.type, inline: a.inline })),
        source: null,
      });
    }
    if (mode === "reply" || mode === "replyAll") {
      // RFC 5322 §3.6.3: replies go to Reply-To when present, else From.
      const primary = v.replyTo.length ? v.replyTo : v.from;
      let to: Person[] = primary;
      let cc: Person[] = [];
      if (mode === "replyAll") {
        const seen = new Set<string>();
        const keep = (p: Person) => {
          const k = p.address.toLowerCase();
          if (!k || me.has(k) || seen.has(k)) return false;
          seen.add(k);
          return true;
        };
        to = [...primary, ...v.to].filter(keep);
        cc = v.cc.filter(keep);
        if (!to.length && primary.length) to = primary; // replying to your own message: keep the original recipient
      }
      const quoteHtml = `<p><br></p><div class="pb-quote-head">${escapeHtml(q.wrote(dateText, fromLine))}</div><blockquote type="cite">${bodyHtml}</blockquote>`;
      const quoteText = `\n\n${q.wrote(dateText, fromLine)}\n${bodyText
        .split(/\r?\n/)
        .map((l) => "> " + l)
        .join("\n")}`;
      return c.json({
        draftId: null,
        to: peopleText(to),
        cc: peopleText(cc),
        bcc: "",
        subject: prefixSubject("Re", v.subject),
        html: quoteHtml,
        text: quoteText,
        inReplyTo: v.messageId,
        references: refs,
        attachments: [],
        source: { id: m.id, mode: "reply" },
        identity: ownAddress,
      });
    }
    if (mode === "forward" || mode === "forwardAttachment") {
      const head = [
        q.forwarded,
        `${q.from}: ${fromLine}`,
        `${q.date}: ${dateText}`,
        `${q.subject}: ${v.subject}`,
        `${q.to}: ${peopleText(v.to)}`,
        ...(v.cc.length ? [`${q.cc}: ${peopleText(v.cc)}`] : []),
      ];
      const attachments =
        mode === "forwardAttachment"
          ? [{ ref: { forward: m.id }, name: `${fileSafe(v.subject || "message")}.eml`, size: m.size, type: "message/rfc822", inline: false }]
          : v.attachments.map((a) => ({ ref: { message: m.id, index: a.index }, name: a.filename, size: a.size, type: a.type, inline: a.inline }));
      return c.json({
        draftId: null,
        to: "",
        cc: "",
        bcc: "",
        subject: prefixSubject("Fwd", v.subject),
        html: mode === "forward" ? `<p><br></p><div class="pb-fwd-head">${head.map(escapeHtml).join("<br>")}</div><br>${bodyHtml}` : "<p><br></p>",
        text: mode === "forward" ? `\n\n${head.join("\n")}\n\n${bodyText}` : "\n",
        inReplyTo: null,
        references: [],
        attachments,
        source: { id: m.id, mode: "forward" },
        identity: ownAddress,
      });
    }
    throw new ApiError(400, "bad_mode", "Unknown compose mode.");
  });

  app.post("/api/drafts", async (c) => {
    const account = c.get("account");
    const body = await readJson<ComposeBody>(c, MAX_BODY);
    const drafts = await specialFolder(ctx, account.id, "\\Drafts");
    const built = await build(deps, account, body, { draft: true });
    // Append the new version first, then remove the old: a crash in between leaves two drafts, never none.
    const [res] = await store.append(drafts.id, [{ raw: built.raw, flags: ["\\Draft", "\\Seen"] }]);
    await removeDraft(ctx, account, body.draftId, drafts.id);
    return c.json({ ok: true, draftId: res!.id, folderId: drafts.id });
  });

  app.delete("/api/drafts/:id", async (c) => {
    const account = c.get("account");
    const drafts = await specialFolder(ctx, account.id, "\\Drafts");
    await removeDraft(ctx, account, Number(c.req.param("id")), drafts.id);
    return c.json({ ok: true });
  });

  app.post("/api/send", async (c) => {
    const account = c.get("account");
    const body = await readJson<ComposeBody>(c, MAX_BODY);
    const built = await build(deps, account, body, { draft: false });
    if (!built.recipients.length) throw new ApiError(400, "no_recipients", "Add at least one recipient.");
    if (built.raw.byteLength > maxSize) {
      throw new ApiError(413, "too_large", `The message is ${mb(built.raw.byteLength)}, over the ${mb(maxSize)} limit (attachments travel base64-encoded, about 37% larger than the files). Remove or shrink some attachments.`);
    }
    const delay = deps.sendLater ? sendDelayOf(account) : 0;
    if (delay > 0 && deps.sendLater) {
      // Held for the send delay (Undo send): the draft form keeps Bcc for the envelope and for Undo; send-delay.ts strips it.
      const source = body.source && Number.isSafeInteger(body.source.id) ? { [SOURCE_HEADER]: `${body.source.id} ${body.source.mode === "forward" ? "forward" : "reply"}` } : undefined;
      const held = await build(deps, account, body, { draft: true, extraHeaders: source });
      const h = await deps.sendLater.hold(account, held.raw, Date.now() + delay * 1000);
      const drafts = await specialFolder(ctx, account.id, "\\Drafts").catch(() => null);
      if (drafts && body.draftId !== h.id) await removeDraft(ctx, account, body.draftId, drafts.id).catch(() => {});
      for (const a of body.attachments ?? []) if ("upload" in a && typeof a.upload === "string") await uploads.remove(account.id, a.upload).catch(() => {});
      return c.json({ ok: true, held: h });
    }
    const result = await ctx.submit({ account, envelopeFrom: built.from.address, recipients: built.recipients, raw: built.raw, saveToSent: true });
    // Sent and committed: now tidy up (failures here must not turn a sent message into an error).
    const drafts = await specialFolder(ctx, account.id, "\\Drafts").catch(() => null);
    if (drafts) await removeDraft(ctx, account, body.draftId, drafts.id).catch(() => {});
    if (body.source && Number.isSafeInteger(body.source.id)) {
      const orig = await ownedMessage(ctx, account, body.source.id).catch(() => null);
      if (orig) await store.storeFlags(orig.folderId, [orig.uid], "add", [body.source.mode === "forward" ? "$Forwarded" : "\\Answered"]).catch(() => {});
    }
    for (const a of body.attachments ?? []) if ("upload" in a && typeof a.upload === "string") await uploads.remove(account.id, a.upload).catch(() => {});
    await wstore.noteCorrespondents(account.id, built.people, Date.now()).catch(() => {});
    return c.json({ ok: true, messageId: result.messageId, local: result.local.length, queued: result.queued.length });
  });
}

async function removeDraft(ctx: ServerContext, account: Account, draftId: unknown, draftsFolderId: number): Promise<void> {
  if (typeof draftId !== "number" || !Number.isSafeInteger(draftId) || draftId <= 0) return;
  const m = await ctx.store.getMessageById(draftId);
  if (!m || m.folderId !== draftsFolderId) return;
  const f = await ctx.store.getFolderById(m.folderId);
  if (!f || f.accountId !== account.id) return;
  await ctx.store.storeFlags(m.folderId, [m.uid], "add", ["\\Deleted"], { silent: true });
  await ctx.store.expunge(m.folderId, [m.uid]);
}

async function build(deps: ComposeDeps, account: Account, body: ComposeBody, opts: { draft: boolean; extraHeaders?: Record<string, string> }) {
  const { ctx } = deps;
  if (typeof body !== "object" || body === null) throw new ApiError(400, "bad_request", "The message could not be understood.");
  const sendAs = await ctx.store.sendAsAddresses(account.id);
  const fromAddr = (typeof body.from === "string" && body.from ? body.from : account.email).toLowerCase();
  if (!sendAs.map((a) => a.toLowerCase()).includes(fromAddr)) throw new ApiError(403, "bad_sender", "You are not allowed to send from that address.");
  const identity = await identityFor(ctx.store, account, fromAddr);
  const from: Person = { name: identity?.name ?? account.settings.displayName ?? "", address: fromAddr };
  const to = parseAddressList(str(body.to));
  const cc = parseAddressList(str(body.cc));
  const bcc = parseAddressList(str(body.bcc));
  const subject = str(body.subject).replace(/[\r\n]+/g, " ").slice(0, 998);
  const html = typeof body.html === "string" ? body.html : null;
  const text = typeof body.text === "string" ? body.text : html ? htmlToText(html) : "";
  const refs = Array.isArray(body.references) ? body.references.filter((r): r is string => typeof r === "string" && /^<[^<>\s]{1,500}>$/.test(r)).slice(-30) : [];
  const inReplyTo = typeof body.inReplyTo === "string" && /^<[^<>\s]{1,500}>$/.test(body.inReplyTo) ? body.inReplyTo : null;
  const attachments = await resolveAttachments(deps, account, body.attachments ?? []);
  const raw = await buildMessage({ from, to, cc, bcc, subject, text, html, attachments, inReplyTo, references: refs, keepBcc: opts.draft, extraHeaders: opts.extraHeaders });
  const recipients = [...new Set([...to, ...cc, ...bcc].map((p) => p.address.toLowerCase()))];
  return { raw, from, recipients, people: [...to, ...cc, ...bcc] };
}

async function resolveAttachments(deps: ComposeDeps, account: Account, refs: AttachmentRef[]): Promise<OutgoingAttachment[]> {
  if (!Array.isArray(refs) || refs.length > 100) throw new ApiError(400, "bad_request", "Too many attachments.");
  const out: OutgoingAttachment[] = [];
  for (const ref of refs) {
    if (ref && typeof ref === "object" && "upload" in ref && typeof ref.upload === "string") {
      const u = await deps.uploads.read(account.id, ref.upload);
      if (!u) throw new ApiError(410, "upload_gone", "An attachment is no longer available (it was uploaded too long ago). Remove it and attach the file again.");
      out.push({ filename: u.meta.name, contentType: u.meta.type, content: u.data });
    } else if (ref && typeof ref === "object" && "forward" in ref && Number.isSafeInteger(ref.forward)) {
      const m = await ownedMessage(deps.ctx, account, ref.forward);
      const raw = await deps.ctx.store.readMessage(m.id);
      out.push({ filename: `${fileSafe(m.subject || "message")}.eml`, contentType: "message/rfc822", content: raw });
    } else if (ref && typeof ref === "object" && "message" in ref && Number.isSafeInteger(ref.message) && Number.isInteger(ref.index)) {
      const m = await ownedMessage(deps.ctx, account, ref.message);
      const { info: v, bytes } = await attachmentContent(deps, m, ref.index).catch(() => {
        throw new ApiError(410, "attachment_gone", "An attachment of the original message is no longer available.");
      });
      out.push({ filename: v.filename, contentType: safeContentType(v.type), content: bytes, cid: v.inline && v.contentId ? v.contentId : undefined });
    } else {
      throw new ApiError(400, "bad_request", "An attachment could not be understood.");
    }
  }
  return out;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function fileSafe(s: string): string {
  return s.replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_").slice(0, 100);
}


function tooLargeText(size: number, max: number): string {
  return `That file is too large: ${mb(size)} becomes ${mb(encodedSize(size))} in a message (attachments travel base64-encoded, about 37% larger), over the ${mb(max)} limit. Files up to ${mb(largestFile(max))} fit.`;
}

/** A date in the given BCP 47 language and IANA time zone; RFC 5322 form when either is unusable. */
function localDate(d: Date, lang: string | undefined, tz: string | undefined): string {
  if (!lang || !tz || lang.length > 35 || tz.length > 64 || !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(lang)) return formatMailDate(d);
  try {
    return new Intl.DateTimeFormat(lang, { timeZone: tz, dateStyle: "full", timeStyle: "short" }).format(d);
  } catch {
    return formatMailDate(d); // RangeError: unknown time zone or language
  }
}

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

