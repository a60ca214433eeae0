/**
 * The project's own ActiveSync client for tests: speaks MS-ASHTTP over real
 * HTTPS (node:https, self-signed certificate accepted), encodes requests and
 * decodes responses with our codec, and — when asked — checks every request
 * against libwbxml's xml2wbxml (byte for byte) and every response against
 * libwbxml's wbxml2xml (tree for tree).
 */
import https from "node:https";
import { decode, encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { el, isElement, kid, kids, kidText, text, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import { compareWithLibwbxml, libwbxmlDecode, libwbxmlEncode, libwbxmlKnows } from "./libwbxml.ts";

export interface EasResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
  doc: WElement | null;
}

export interface ClientOptions {
  host: string;
  port: number;
  user: string;
  pass: string;
  deviceId: string;
  deviceType?: string;
  version: string;
  userAgent?: string;
  /** Compare every WBXML request and response with libwbxml2-utils. */
  libwbxml?: boolean;
}

let agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: 256 });

/** Drops the client's keep-alive connections (call before closing the server). */
export function closeConnections(): void {
  agent.destroy();
  agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: 256 });
}

export function httpsRequest(opts: { host: string; port: number; method: string; path: string; headers: Record<string, string>; body?: Uint8Array; signal?: AbortSignal }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: opts.host, port: opts.port, method: opts.method, path: opts.path, headers: { ...opts.headers, "content-length": String(opts.body?.length ?? 0) }, agent, signal: opts.signal, servername: "localhost" },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body ? Buffer.from(opts.body) : undefined);
  });
}

export class EasClient {
  policyKey: string | null = null;
  /** Requests/responses checked against libwbxml, and any differences found. */
  libwbxmlChecked = { requests: 0, responses: 0, skipped: 0 };
  libwbxmlMismatches: string[] = [];
  folderSyncKey = "0";
  folders: { serverId: string; parentId: string; displayName: string; type: number }[] = [];
  syncKeys = new Map<string, string>();

  constructor(public o: ClientOptions) {}

  get authHeader(): string {
    return "Basic " + Buffer.from(`${this.o.user}:${this.o.pass}`).toString("base64");
  }

  path(cmd: string, params: Record<string, string> = {}): string {
    const q = new URLSearchParams({ Cmd: cmd, User: this.o.user, DeviceId: this.o.deviceId, DeviceType: this.o.deviceType ?? "TestDevice", ...params });
    return `/Microsoft-Server-ActiveSync?${q.toString()}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = {
      authorization: this.authHeader,
      "ms-asprotocolversion": this.o.version,
      "user-agent": this.o.userAgent ?? "PillarboxTestClient/1.0",
      "content-type": "application/vnd.ms-sync.wbxml",
      ...extra,
    };
    if (this.policyKey !== null) h["x-ms-policykey"] = this.policyKey;
    return h;
  }

  async options(): Promise<EasResponse> {
    const r = await httpsRequest({ host: this.o.host, port: this.o.port, method: "OPTIONS", path: "/Microsoft-Server-ActiveSync", headers: { authorization: this.authHeader } });
    return { ...r, doc: null };
  }

  /** Sends a command. `doc` is encoded with our codec (and checked against xml2wbxml). */
  async send(cmd: string, doc: WElement | null, opts: { params?: Record<string, string>; headers?: Record<string, string>; raw?: Uint8Array; path?: string; signal?: AbortSignal } = {}): Promise<EasResponse> {
    let body = opts.raw;
    if (doc) {
      body = encode(doc);
      if (this.o.libwbxml) this.checkRequest(doc, body);
    }
    const r = await httpsRequest({ host: this.o.host, port: this.o.port, method: "POST", path: opts.path ?? this.path(cmd, opts.params), headers: this.headers(opts.headers), body, signal: opts.signal });
    let out: WElement | null = null;
    const ctype = String(r.headers["content-type"] ?? "");
    if (r.body.length && ctype.includes("vnd.ms-sync.wbxml")) {
      out = decode(r.body).root;
      if (this.o.libwbxml) this.checkResponse(out, r.body);
    }
    return { ...r, doc: out };
  }

  private checkRequest(doc: WElement, body: Uint8Array): void {
    if (!libwbxmlKnows(doc)) {
      this.libwbxmlChecked.skipped++;
      return;
    }
    const theirs = libwbxmlEncode(doc);
    if (Buffer.compare(Buffer.from(theirs), Buffer.from(body)) !== 0) this.libwbxmlMismatches.push(`request ${doc.ns}:${doc.name}: ours ${Buffer.from(body).toString("hex")} vs xml2wbxml ${Buffer.from(theirs).toString("hex")}`);
    this.libwbxmlChecked.requests++;
  }

  private checkResponse(doc: WElement, body: Uint8Array): void {
    if (!libwbxmlKnows(doc)) {
      this.libwbxmlChecked.skipped++;
      return;
    }
    const diffs = compareWithLibwbxml(doc, libwbxmlDecode(body));
    for (const d of diffs) this.libwbxmlMismatches.push(`response ${doc.ns}:${doc.name}: ${d}`);
    this.libwbxmlChecked.responses++;
  }

  /** The two-phase Provision (MS-ASPROV §3.2.5.1). Returns the final key. */
  async provision(deviceInfo = true): Promise<string> {
    const policy = (extra: WElement[]) => el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"), extra));
    const info =
      deviceInfo && Number(this.o.version) >= 14.1
        ? el("Settings:DeviceInformation", el("Settings:Set", el("Settings:Model", "Test Model"), el("Settings:FriendlyName", "Test Phone"), el("Settings:OS", "TestOS 1.0"), el("Settings:UserAgent", "PillarboxTestClient/1.0")))
        : null;
    const r1 = await this.send("Provision", el("Provision:Provision", info, policy([])));
    const p1 = kid(kid(r1.doc!, "Provision:Policies"), "Provision:Policy");
    const temp = kidText(p1, "Provision:PolicyKey");
    if (!temp) throw new Error(`no temporary policy key: status ${kidText(r1.doc!, "Provision:Status")}`);
    this.policyKey = "0";
    const r2 = await this.send("Provision", el("Provision:Provision", policy([el("Provision:PolicyKey", temp), el("Provision:Status", "1")])));
    const key = kidText(kid(kid(r2.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:PolicyKey");
    if (!key) throw new Error("no final policy key");
    this.policyKey = key;
    return key;
  }

  async folderSync(): Promise<EasResponse> {
    const r = await this.send("FolderSync", el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", this.folderSyncKey)));
    if (kidText(r.doc!, "FolderHierarchy:Status") === "1") {
      this.folderSyncKey = kidText(r.doc!, "FolderHierarchy:SyncKey")!;
      const changes = kid(r.doc!, "FolderHierarchy:Changes");
      for (const ch of kids(changes)) {
        const sid = kidText(ch, "FolderHierarchy:ServerId")!;
        if (ch.name === "Delete") this.folders = this.folders.filter((f) => f.serverId !== sid);
        else if (ch.name === "Add" || ch.name === "Update") {
          const f = { serverId: sid, parentId: kidText(ch, "FolderHierarchy:ParentId")!, displayName: kidText(ch, "FolderHierarchy:DisplayName")!, type: Number(kidText(ch, "FolderHierarchy:Type")) };
          this.folders = [...this.folders.filter((x) => x.serverId !== sid), f];
        }
      }
    }
    return r;
  }

  folderByType(type: number): string {
    const f = this.folders.find((x) => x.type === type);
    if (!f) throw new Error(`no folder of type ${type}`);
    return f.serverId;
  }

  folderByName(name: string): string {
    const f = this.folders.find((x) => x.displayName === name);
    if (!f) throw new Error(`no folder ${name}`);
    return f.serverId;
  }

  /** One Sync of one collection; collection elements in the order MS-ASCMD §2.2.3.29.2 requires. */
  syncDoc(collectionId: string, o: { syncKey?: string; windowSize?: number; getChanges?: boolean; deletesAsMoves?: boolean; options?: WElement[]; commands?: WElement[]; className?: boolean } = {}): WElement {
    const key = o.syncKey ?? this.syncKeys.get(collectionId) ?? "0";
    return el(
      "AirSync:Sync",
      el(
        "AirSync:Collections",
        el(
          "AirSync:Collection",
          o.className && el("AirSync:Class", "Email"),
          el("AirSync:SyncKey", key),
          el("AirSync:CollectionId", collectionId),
          o.deletesAsMoves !== undefined && el("AirSync:DeletesAsMoves", o.deletesAsMoves ? "1" : "0"),
          key !== "0" && (o.getChanges === false ? el("AirSync:GetChanges", "0") : el("AirSync:GetChanges")),
          o.windowSize !== undefined && el("AirSync:WindowSize", o.windowSize),
          o.options && el("AirSync:Options", o.options),
          o.commands && o.commands.length > 0 && el("AirSync:Commands", o.commands),
        ),
      ),
    );
  }

  /** Sends a Sync and records the new key. Returns the response and its collection element. */
  async sync(collectionId: string, o: Parameters<EasClient["syncDoc"]>[1] = {}): Promise<{ r: EasResponse; coll: WElement | undefined; status: string | undefined }> {
    const r = await this.send("Sync", this.syncDoc(collectionId, o));
    const coll = r.doc ? kids(kid(r.doc, "AirSync:Collections"), "AirSync:Collection").find((c) => kidText(c, "AirSync:CollectionId") === collectionId) : undefined;
    const status = kidText(coll, "AirSync:Status");
    // Only a Sync with the client's own key moves it (tests that send odd keys leave it alone).
    if (o.syncKey === undefined || o.syncKey === this.syncKeys.get(collectionId)) {
      if (status === "1") this.syncKeys.set(collectionId, kidText(coll, "AirSync:SyncKey")!);
      if (status === "3") this.syncKeys.set(collectionId, "0");
    }
    return { r, coll, status };
  }
}

/** Commands of a Sync collection response, by kind. */
export function commandsOf(coll: WElement | undefined): { adds: WElement[]; changes: WElement[]; deletes: WElement[]; softDeletes: WElement[] } {
  const cmds = kids(kid(coll, "AirSync:Commands"));
  return {
    adds: cmds.filter((c) => c.name === "Add"),
    changes: cmds.filter((c) => c.name === "Change"),
    deletes: cmds.filter((c) => c.name === "Delete"),
    softDeletes: cmds.filter((c) => c.name === "SoftDelete"),
  };
}

export function appData(cmd: WElement): WElement | undefined {
  return kid(cmd, "AirSync:ApplicationData");
}

export { el, isElement, kid, kids, kidText, text };
