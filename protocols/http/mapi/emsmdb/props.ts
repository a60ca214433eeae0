/**
 * Store folders and mail items as MAPI property sets (MS-OXPROPS canonical
 * tags; MS-OXCFOLD §2.2.2 folder properties, MS-OXCMSG §2.2.1 message
 * properties). Everything is computed from the store's rows and the stored
 * MIME, so MAPI sees the same items IMAP, EWS and the webmail see.
 */
import type { Folder, FolderStatus, MessageIndex } from "../../../../storage/api.ts";
import { formatAddress, readMessage, type Mailbox, type MimePart } from "../../../../mail/index.ts";
import { PT, fileTime, type PropMap, type Value } from "./values.ts";
import { folderEntryId, idValue, messageEntryId } from "./ids.ts";

/** Property ids (MS-OXPROPS) with the type the engine answers them in. */
export const P = {
  Importance: [0x0017, PT.I32],
  MessageClass: [0x001a, PT.Unicode],
  Subject: [0x0037, PT.Unicode],
  ClientSubmitTime: [0x0039, PT.Time],
  SubjectPrefix: [0x003d, PT.Unicode],
  SentRepresentingName: [0x0042, PT.Unicode],
  SentRepresentingAddressType: [0x0064, PT.Unicode],
  SentRepresentingEmailAddress: [0x0065, PT.Unicode],
  ConversationTopic: [0x0070, PT.Unicode],
  SenderName: [0x0c1a, PT.Unicode],
  SenderAddressType: [0x0c1e, PT.Unicode],
  SenderEmailAddress: [0x0c1f, PT.Unicode],
  DisplayBcc: [0x0e02, PT.Unicode],
  DisplayCc: [0x0e03, PT.Unicode],
  DisplayTo: [0x0e04, PT.Unicode],
  MessageDeliveryTime: [0x0e06, PT.Time],
  MessageFlags: [0x0e07, PT.I32],
  MessageSize: [0x0e08, PT.I32],
  ParentEntryId: [0x0e09, PT.Binary],
  HasAttachments: [0x0e1b, PT.Bool],
  NormalizedSubject: [0x0e1d, PT.Unicode],
  AttachSize: [0x0e20, PT.I32],
  AttachNumber: [0x0e21, PT.I32],
  Access: [0x0ff4, PT.I32],
  InstanceKey: [0x0ff6, PT.Binary],
  AccessLevel: [0x0ff7, PT.I32],
  RecordKey: [0x0ff9, PT.Binary],
  ObjectType: [0x0ffe, PT.I32],
  EntryId: [0x0fff, PT.Binary],
  Body: [0x1000, PT.Unicode],
  Html: [0x1013, PT.Binary],
  InternetMessageId: [0x1035, PT.Unicode],
  Hidden: [0x10f4, PT.Bool],
  DisplayName: [0x3001, PT.Unicode],
  CreationTime: [0x3007, PT.Time],
  LastModificationTime: [0x3008, PT.Time],
  FolderType: [0x3601, PT.I32],
  ContentCount: [0x3602, PT.I32],
  ContentUnreadCount: [0x3603, PT.I32],
  Subfolders: [0x360a, PT.Bool],
  ContainerClass: [0x3613, PT.Unicode],
  AttachDataBinary: [0x3701, PT.Binary],
  AttachFilename: [0x3704, PT.Unicode],
  AttachMethod: [0x3705, PT.I32],
  AttachLongFilename: [0x3707, PT.Unicode],
  AttachMimeTag: [0x370e, PT.Unicode],
  AttachContentId: [0x3712, PT.Unicode],
  SenderSmtpAddress: [0x5d01, PT.Unicode],
  SentRepresentingSmtpAddress: [0x5d02, PT.Unicode],
  RuleId: [0x6674, PT.I64],
  RuleSequence: [0x6676, PT.I32],
  RuleState: [0x6677, PT.I32],
  RuleName: [0x6682, PT.Unicode],
  FolderId: [0x6748, PT.I64],
  ParentFolderId: [0x6749, PT.I64],
  Mid: [0x674a, PT.I64],
} as const satisfies Record<string, readonly [number, number]>;

export type PropName = keyof typeof P;

export function set(m: PropMap, name: PropName, value: Value | null | undefined): void {
  if (value === null || value === undefined) return;
  const [id, type] = P[name];
  m.set(id, { type, value });
}

/** MS-OXCMSG §2.2.1.6 PidTagMessageFlags bits. */
export const MSGFLAG = { Read: 0x1, Unmodified: 0x2, Submit: 0x4, Unsent: 0x8, HasAttach: 0x10, FromMe: 0x20 } as const;

/** A folder the logon shows: a store folder or a virtual one (Root, Common Views...). */
export interface FolderView {
  counter: number;
  parentCounter: number;
  name: string;
  /** Present for store folders. */
  folder: Folder | null;
  status: FolderStatus | null;
  hasSubfolders: boolean;
  containerClass: string;
}

const CLASS: Record<string, string> = { mail: "IPF.Note", calendar: "IPF.Appointment", contacts: "IPF.Contact", tasks: "IPF.Task", notes: "IPF.StickyNote" };
export const containerClassOf = (itemClass: string): string => CLASS[itemClass] ?? "IPF.Note";

export function folderProps(accountId: number, f: FolderView): PropMap {
  const m: PropMap = new Map();
  set(m, "DisplayName", f.name);
  set(m, "FolderId", idValue(f.counter));
  set(m, "ParentFolderId", idValue(f.parentCounter));
  set(m, "EntryId", folderEntryId(accountId, f.counter));
  set(m, "ParentEntryId", folderEntryId(accountId, f.parentCounter));
  set(m, "RecordKey", folderEntryId(accountId, f.counter));
  set(m, "InstanceKey", new Uint8Array(new BigUint64Array([idValue(f.counter)]).buffer));
  set(m, "ContentCount", f.status?.messages ?? 0);
  set(m, "ContentUnreadCount", f.status?.unseen ?? 0);
  set(m, "Subfolders", f.hasSubfolders);
  set(m, "ContainerClass", f.containerClass);
  set(m, "FolderType", 1); // MS-OXCFOLD §2.2.2.2.1.1 FOLDER_GENERIC
  set(m, "ObjectType", 3); // MAPI_FOLDER
  set(m, "Access", f.folder ? 0x3f : 0x02); // MS-OXCPRPT §2.2.1.1: read-only for virtual folders
  set(m, "AccessLevel", f.folder ? 1 : 0);
  return m;
}

const people = (list: Mailbox[]): string => list.map((a) => a.name || a.address).join("; ");

/** The properties of a list row (from the index alone: no blob read). */
export function messageListProps(accountId: number, folderCounter: number, msg: MessageIndex, selfAddress: string): PropMap {
  const m: PropMap = new Map();
  const counter = 2 ** 40 + msg.id;
  const from = msg.envelope.from?.[0];
  const fromAddr = msg.fromAddr;
  const fromName = msg.fromName || fromAddr;
  set(m, "Subject", msg.subject);
  set(m, "NormalizedSubject", msg.baseSubject || msg.subject);
  set(m, "ConversationTopic", msg.baseSubject || msg.subject);
  set(m, "MessageClass", "IPM.Note");
  let flags = 0;
  if (msg.flags.includes("\\Seen")) flags |= MSGFLAG.Read;
  if (msg.flags.includes("\\Draft")) flags |= MSGFLAG.Unsent;
  if (msg.hasAttachment) flags |= MSGFLAG.HasAttach;
  if (fromAddr && fromAddr === selfAddress.toLowerCase()) flags |= MSGFLAG.FromMe;
  set(m, "MessageFlags", flags);
  set(m, "MessageSize", Math.min(msg.size, 0x7fffffff));
  set(m, "MessageDeliveryTime", fileTime(msg.internalDate));
  set(m, "CreationTime", fileTime(msg.internalDate));
  set(m, "LastModificationTime", fileTime(msg.internalDate));
  set(m, "ClientSubmitTime", fileTime(msg.sentDate ?? msg.internalDate));
  if (from) {
    for (const [n, a, t, s] of [
      ["SenderName", "SenderEmailAddress", "SenderAddressType", "SenderSmtpAddress"],
      ["SentRepresentingName", "SentRepresentingEmailAddress", "SentRepresentingAddressType", "SentRepresentingSmtpAddress"],
    ] as const) {
      set(m, n, fromName);
      set(m, a, fromAddr);
      set(m, t, "SMTP");
      set(m, s, fromAddr);
    }
  }
  const names = (xs: typeof msg.envelope.to) => (xs ?? []).filter((a) => a.mailbox !== null).map((a) => a.name || (a.host ? `${a.mailbox}@${a.host}` : a.mailbox ?? "")).join("; ");
  set(m, "DisplayTo", names(msg.envelope.to));
  set(m, "DisplayCc", names(msg.envelope.cc));
  set(m, "DisplayBcc", names(msg.envelope.bcc));
  if (msg.messageId) set(m, "InternetMessageId", msg.messageId);
  set(m, "HasAttachments", msg.hasAttachment);
  set(m, "Importance", 1); // MS-OXCMSG §2.2.1.11: normal
  set(m, "Mid", idValue(counter));
  set(m, "FolderId", idValue(folderCounter));
  set(m, "EntryId", messageEntryId(accountId, folderCounter, counter));
  set(m, "ParentEntryId", folderEntryId(accountId, folderCounter));
  set(m, "RecordKey", messageEntryId(accountId, folderCounter, counter));
  set(m, "InstanceKey", new Uint8Array(new BigUint64Array([idValue(counter)]).buffer));
  set(m, "ObjectType", 5); // MAPI_MESSAGE
  set(m, "Access", 0x3);
  set(m, "AccessLevel", 1);
  return m;
}

/** One attachment of a stored message: the MIME leaf and its place. */
export interface AttachmentPart {
  num: number;
  part: MimePart;
  filename: string;
  mimeType: string;
}

/** The message's attachments in document order (parts with a filename or a non-text, non-multipart type outside the body). */
export function attachmentsOf(root: MimePart): AttachmentPart[] {
  const out: AttachmentPart[] = [];
  const walk = (p: MimePart, depth: number): void => {
    if (depth > 20 || out.length >= 500) return;
    if (p.parts && p.type === "multipart") {
      for (const c of p.parts) walk(c, depth + 1);
      return;
    }
    const filename = p.disposition?.params.filename ?? p.params.name ?? "";
    const isAttachment = p.disposition?.type === "attachment" || (filename !== "" && p.type !== "text") || (p.type !== "text" && p !== root);
    if (isAttachment) out.push({ num: out.length, part: p, filename: filename || `attachment-${out.length + 1}`, mimeType: `${p.type}/${p.subtype}` });
  };
  walk(root, 0);
  return out;
}

/** The full property set of an opened message: the list properties plus the bodies read from the stored MIME. */
export function messageFullProps(accountId: number, folderCounter: number, msg: MessageIndex, raw: Uint8Array, selfAddress: string): PropMap {
  const m = messageListProps(accountId, folderCounter, msg, selfAddress);
  const r = readMessage(raw);
  if (r.text !== null) set(m, "Body", r.text);
  else set(m, "Body", "");
  if (r.html !== null) set(m, "Html", new TextEncoder().encode(r.html));
  const sender = r.from[0];
  if (sender) set(m, "SenderName", sender.name || sender.address);
  if (r.to.length) set(m, "DisplayTo", people(r.to));
  if (r.cc.length) set(m, "DisplayCc", people(r.cc));
  return m;
}

export const formatMailbox = (m: Mailbox): string => formatAddress(m);
