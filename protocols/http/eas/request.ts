/**
 * The ActiveSync request line and headers (MS-ASHTTP §2.2.1.1): the query
 * string in plain form (Cmd=...&User=...&DeviceId=...&DeviceType=...) or
 * base64-encoded binary form (§2.2.1.1.1.1), the protocol version, policy
 * key and multipart headers. Sans-IO: takes a URL and headers, returns a
 * parsed request or an error message.
 */

/** Protocol versions we serve (MS-ASHTTP §2.2.1.1.2.6), advertised in OPTIONS. */
export const SUPPORTED_VERSIONS = ["12.1", "14.0", "14.1", "16.0", "16.1"] as const;
export type ProtocolVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The commands we implement, advertised in MS-ASProtocolCommands. */
export const COMMANDS = [
  "Sync",
  "SendMail",
  "SmartForward",
  "SmartReply",
  "GetAttachment",
  "FolderSync",
  "FolderCreate",
  "FolderDelete",
  "FolderUpdate",
  "MoveItems",
  "GetItemEstimate",
  "Search",
  "Settings",
  "Ping",
  "ItemOperations",
  "Provision",
  "ResolveRecipients",
  "Find",
  "MeetingResponse",
] as const;
export type CommandName = (typeof COMMANDS)[number];

/** MS-ASHTTP §2.2.1.1.1.1.2 command codes of the base64 query. */
const COMMAND_CODES: Record<number, string> = {
  0: "Sync",
  1: "SendMail",
  2: "SmartForward",
  3: "SmartReply",
  4: "GetAttachment",
  9: "FolderSync",
  10: "FolderCreate",
  11: "FolderDelete",
  12: "FolderUpdate",
  13: "MoveItems",
  14: "GetItemEstimate",
  15: "MeetingResponse",
  16: "Search",
  17: "Settings",
  18: "Ping",
  19: "ItemOperations",
  20: "Provision",
  21: "ResolveRecipients",
  22: "ValidateCert",
  23: "Find",
};

/** MS-ASHTTP §2.2.1.1.1.1.3 command parameter tags. */
const PARAM_TAGS: Record<number, string> = {
  0: "AttachmentName",
  1: "CollectionId",
  3: "ItemId",
  4: "LongId",
  6: "Occurrence",
  7: "Options",
  8: "User",
};

export interface EasRequest {
  /** Command name as sent (may be one we do not implement). */
  cmd: string;
  user: string | null;
  deviceId: string;
  deviceType: string;
  /** Version from the header or the base64 query; null when absent. */
  version: string | null;
  /** From X-MS-PolicyKey or the base64 query; null when absent. */
  policyKey: string | null;
  /** Command parameters (AttachmentName, CollectionId, ItemId, LongId, Occurrence, SaveInSent...). */
  params: Record<string, string>;
  /** MS-ASAcceptMultiPart: T, or the AcceptMultiPart option bit (§2.2.1.1.2.5). */
  acceptMultipart: boolean;
  /** SaveInSent (plain "T" or option bit 0x01), for 12.x SendMail/SmartReply/SmartForward. */
  saveInSent: boolean;
  userAgent: string | null;
  locale: number | null;
  base64: boolean;
}

// MS-ASHTTP: DeviceId is alphanumeric, at most 32 characters. Some clients use '-' and '_'; accept those too.
const DEVICE_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const DEVICE_TYPE_RE = /^[A-Za-z0-9 ._-]{1,64}$/;

export function parseEasRequest(url: URL, headers: Headers): EasRequest | { error: string } {
  const rawQuery = url.search.startsWith("?") ? url.search.slice(1) : url.search;
  const headerVersion = headers.get("ms-asprotocolversion");
  const headerPolicy = headers.get("x-ms-policykey");
  const acceptMultipartHeader = (headers.get("ms-asacceptmultipart") ?? "").trim().toUpperCase() === "T";
  const userAgent = headers.get("user-agent");
  // The plain form always names the command (Cmd=...); anything else is the base64 form, whose padding may contain '='.
  if (rawQuery !== "" && !/(^|&)cmd=/i.test(rawQuery)) return parseBase64(rawQuery, headerVersion, headerPolicy, acceptMultipartHeader, userAgent);

  const q = url.searchParams;
  const get = (k: string): string | null => {
    // Parameter names are case-insensitive in practice (clients vary: deviceId, DeviceID).
    for (const [name, v] of q) if (name.toLowerCase() === k.toLowerCase()) return v;
    return null;
  };
  const cmd = get("Cmd");
  if (!cmd) return { error: "missing Cmd parameter" };
  const deviceId = get("DeviceId");
  if (!deviceId || !DEVICE_ID_RE.test(deviceId)) return { error: "missing or invalid DeviceId" };
  const deviceType = get("DeviceType") ?? "";
  if (!DEVICE_TYPE_RE.test(deviceType)) return { error: "missing or invalid DeviceType" };
  const params: Record<string, string> = {};
  for (const name of ["AttachmentName", "CollectionId", "ItemId", "LongId", "Occurrence", "SaveInSent", "ParentId"]) {
    const v = get(name);
    if (v !== null) params[name] = v;
  }
  return {
    cmd,
    user: get("User"),
    deviceId,
    deviceType,
    version: headerVersion?.trim() || null,
    policyKey: headerPolicy?.trim() || null,
    params,
    acceptMultipart: acceptMultipartHeader,
    saveInSent: (params.SaveInSent ?? "").toUpperCase() === "T",
    userAgent,
    locale: null,
    base64: false,
  };
}

function parseBase64(raw: string, headerVersion: string | null, headerPolicy: string | null, acceptMultipartHeader: boolean, userAgent: string | null): EasRequest | { error: string } {
  let b: Buffer;
  try {
    const s = decodeURIComponent(raw);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return { error: "query is neither plain nor base64" };
    b = Buffer.from(s, "base64");
  } catch {
    return { error: "query is neither plain nor base64" };
  }
  let i = 0;
  const need = (n: number) => {
    if (i + n > b.length) throw new Error("truncated");
  };
  try {
    // MS-ASHTTP §2.2.1.1.1.1: version byte, command code, locale (LE uint16), device id, policy key, device type, parameters.
    need(4);
    const v = b[i++]!;
    const code = b[i++]!;
    const locale = b.readUInt16LE(i);
    i += 2;
    need(1);
    const idLen = b[i++]!;
    need(idLen);
    const idBytes = b.subarray(i, i + idLen);
    i += idLen;
    need(1);
    const pkLen = b[i++]!;
    if (pkLen !== 0 && pkLen !== 4) return { error: "bad policy key length" };
    need(pkLen);
    const policyKey = pkLen === 4 ? String(b.readUInt32LE(i)) : null;
    i += pkLen;
    need(1);
    const typeLen = b[i++]!;
    need(typeLen);
    const deviceType = b.subarray(i, i + typeLen).toString("utf8");
    i += typeLen;
    const params: Record<string, string> = {};
    let options = 0;
    while (i < b.length) {
      need(2);
      const tag = b[i++]!;
      const len = b[i++]!;
      need(len);
      const val = b.subarray(i, i + len);
      i += len;
      const name = PARAM_TAGS[tag];
      if (!name) return { error: `unknown command parameter tag ${tag}` };
      if (name === "Options") options = val[0] ?? 0;
      else params[name] = val.toString("utf8");
    }
    const cmd = COMMAND_CODES[code];
    if (!cmd) return { error: `unknown command code ${code}` };
    // The device id is binary here; its hex form is what the plain query of the same device would carry.
    const printable = /^[A-Za-z0-9_-]+$/.test(idBytes.toString("latin1"));
    const deviceId = printable ? idBytes.toString("latin1") : idBytes.toString("hex").toUpperCase();
    if (!DEVICE_ID_RE.test(deviceId)) return { error: "missing or invalid DeviceId" };
    if (!DEVICE_TYPE_RE.test(deviceType)) return { error: "missing or invalid DeviceType" };
    const version = `${Math.floor(v / 10)}.${v % 10}`;
    return {
      cmd,
      user: params.User ?? null,
      deviceId,
      deviceType,
      version: headerVersion?.trim() || version,
      policyKey: policyKey ?? (headerPolicy?.trim() || null),
      params,
      acceptMultipart: acceptMultipartHeader || (options & 0x02) !== 0,
      saveInSent: (options & 0x01) !== 0,
      userAgent,
      locale,
      base64: true,
    };
  } catch {
    return { error: "truncated base64 query" };
  }
}

/** Encodes a base64 query (what a device would send); used by tests and tools. */
export function encodeBase64Query(r: { version: string; cmd: string; locale?: number; deviceId: Uint8Array | string; policyKey?: number | null; deviceType: string; params?: Record<string, string>; options?: number }): string {
  const code = Number(Object.entries(COMMAND_CODES).find(([, n]) => n === r.cmd)?.[0]);
  if (!Number.isInteger(code)) throw new Error(`no code for ${r.cmd}`);
  const [maj, min] = r.version.split(".").map(Number);
  const parts: number[] = [maj! * 10 + min!, code, (r.locale ?? 0x0409) & 0xff, ((r.locale ?? 0x0409) >> 8) & 0xff];
  const id = typeof r.deviceId === "string" ? Buffer.from(r.deviceId, "latin1") : Buffer.from(r.deviceId);
  parts.push(id.length, ...id);
  if (r.policyKey !== undefined && r.policyKey !== null) {
    const pk = Buffer.alloc(4);
    pk.writeUInt32LE(r.policyKey >>> 0);
    parts.push(4, ...pk);
  } else parts.push(0);
  const t = Buffer.from(r.deviceType, "utf8");
  parts.push(t.length, ...t);
  for (const [k, v] of Object.entries(r.params ?? {})) {
    const tag = Number(Object.entries(PARAM_TAGS).find(([, n]) => n === k)?.[0]);
    const vb = Buffer.from(v, "utf8");
    parts.push(tag, vb.length, ...vb);
  }
  if (r.options !== undefined) parts.push(7, 1, r.options);
  return Buffer.from(parts).toString("base64");
}

/** Numeric form for comparisons: "14.1" -> 141. */
export function versionNumber(v: string): number {
  const [a, b] = v.split(".");
  return Number(a) * 10 + Number(b ?? 0);
}
