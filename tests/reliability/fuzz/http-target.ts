/**
 * HTTP fuzz target: random requests straight into the Hono app (app.fetch),
 * with a real store behind it. An input is a request written as text
 * ("METHOD path\nheader: value\n...\n\nbody") so mutations stay meaningful.
 * Failure: app.fetch throws, answers 500 (an unhandled exception inside a
 * handler), or takes longer than a second.
 */
import "../../../protocols/http/eas/index.ts";
import "../../../protocols/http/autodiscover/index.ts";
import "../../../protocols/http/dav/index.ts";
import "../../../protocols/http/ews/index.ts";
import { buildApp } from "../../../protocols/http/app.ts";
import { createWebmail } from "../../../protocols/http/webmail/index.ts";
import { startTestServer, createUser, type TestServer } from "../../helpers/server.ts";
import type { FuzzTarget } from "./engine.ts";
import type { HttpEnv } from "../../../protocols/http/bridge.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");
const METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"];

export interface HttpFuzz {
  target: FuzzTarget;
  /** Requests that got a 5xx, by path (the first few). */
  close(): Promise<void>;
}

/**
 * An input as a request: "METHOD path\nheader: value\n...\n\nbody" (latin1, so every byte
 * stays a character). A method not in `methods` becomes one of them; `headers` come first and
 * the input's own lines are added to them (`set` replaces, as the DAV fuzzer wants for
 * Authorization, `append` keeps both). Null for what the Fetch API cannot build at all.
 */
export function requestFromInput(
  input: Uint8Array,
  opts: { methods: readonly string[]; defaultPath: string; headers?: Record<string, string>; replaceHeaders?: boolean },
): Request | null {
  const text = dec.decode(input);
  const sep = text.indexOf("\n\n");
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? null : input.subarray(sep + 2);
  const lines = head.split("\n");
  const first = (lines.shift() ?? "").split(" ");
  let method = (first[0] ?? "GET").toUpperCase();
  if (!opts.methods.includes(method)) method = opts.methods[method.length % opts.methods.length]!;
  const path = first.slice(1).join(" ") || opts.defaultPath;
  let url: string;
  try {
    url = new URL(path.startsWith("/") ? path : "/" + path, "https://mail.pillarbox.test").toString();
  } catch {
    return null;
  }
  const headers = new Headers(opts.headers ?? {});
  for (const l of lines) {
    const c = l.indexOf(":");
    if (c <= 0) continue;
    try {
      if (opts.replaceHeaders) headers.set(l.slice(0, c).trim(), l.slice(c + 1).trim());
      else headers.append(l.slice(0, c).trim(), l.slice(c + 1).trim());
    } catch {
      // A header the Fetch API itself refuses cannot reach the app from the socket bridge either.
    }
  }
  try {
    return new Request(url, { method, headers, body: method === "GET" || method === "HEAD" || body === null ? null : new Uint8Array(body) });
  } catch {
    return null;
  }
}

function toRequest(input: Uint8Array): Request | null {
  return requestFromInput(input, { methods: METHODS, defaultPath: "/" });
}

export async function makeHttpTarget(): Promise<HttpFuzz> {
  const srv: TestServer = await startTestServer({ listeners: [] });
  await createUser(srv.store, "fuzz@fuzz.test", "fuzz-password-1");
  const wstore = srv.ctx.storage.webmail;
  const webmail = await createWebmail(srv.ctx, wstore);
  const app = buildApp(srv.ctx, { webmail, httpsPort: () => 443 });
  const env: HttpEnv = { scheme: "https", remoteIp: "127.0.0.9", localPort: 443 };
  const call = (req: Request) => app.fetch(req, env);

  // Log in once so mutated requests reach the authenticated handlers.
  let cookie = "";
  let csrf = "";
  try {
    const page = await call(new Request("https://mail.pillarbox.test/login"));
    const html = await page.text();
    const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const setCookie = page.headers.get("set-cookie") ?? "";
    const loginCookie = setCookie.split(";")[0] ?? "";
    const form = new URLSearchParams({ email: "fuzz@fuzz.test", password: "fuzz-password-1", csrf: token });
    const res = await call(new Request("https://mail.pillarbox.test/login", { method: "POST", body: form, headers: { cookie: loginCookie, origin: "https://mail.pillarbox.test", "content-type": "application/x-www-form-urlencoded" } }));
    cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const s = await call(new Request("https://mail.pillarbox.test/api/session", { headers: { cookie } }));
    csrf = ((await s.json()) as { csrf?: string }).csrf ?? "";
  } catch {
    // Seeds without a session still exercise routing and the login path.
  }
  const basic = "Basic " + Buffer.from("fuzz@fuzz.test:fuzz-password-1").toString("base64");
  const eas = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=fuzz&DeviceId=FUZZ0001&DeviceType=iPhone";
  const auth = `cookie: ${cookie}\nx-csrf-token: ${csrf}\norigin: https://mail.pillarbox.test`;
  const seeds = [
    "GET /",
    "GET /login",
    "GET /assets/app.js",
    "GET /../../../etc/passwd",
    "GET /assets/..%2f..%2fpackage.json",
    "GET /assets/%2e%2e/%2e%2e/etc/passwd",
    `GET /api/session\n${auth}`,
    `GET /api/folders\n${auth}`,
    `GET /api/folders/1/messages?limit=50&offset=0\n${auth}`,
    `GET /api/messages/1\n${auth}`,
    `GET /api/search?q=hello&folder=1\n${auth}`,
    `POST /api/messages/flags\n${auth}\ncontent-type: application/json\n\n{"ids":[1,2],"add":["\\\\Seen"]}`,
    `POST /api/folders\n${auth}\ncontent-type: application/json\n\n{"name":"a/b"}`,
    `PUT /api/settings\n${auth}\ncontent-type: application/json\n\n{"displayName":"x","signature":"y"}`,
    `POST /api/send\n${auth}\ncontent-type: application/json\n\n{"to":["a@b.c"],"subject":"s","text":"t"}`,
    `POST /login\norigin: https://mail.pillarbox.test\ncontent-type: application/x-www-form-urlencoded\n\nemail=a%40b&password=x&csrf=y`,
    `OPTIONS ${eas}\nauthorization: ${basic}`,
    "GET /.well-known/caldav",
    `PUT /dav/calendars/fuzz@fuzz.test/Calendar/f.ics\nauthorization: ${basic}\ncontent-type: text/calendar\nif-none-match: *\n\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//f//EN\r\nBEGIN:VEVENT\r\nUID:f@fuzz\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`,
    `GET /dav/calendars/fuzz@fuzz.test/Calendar/f.ics\nauthorization: ${basic}`,
    `POST ${eas}\nauthorization: ${basic}\nms-asprotocolversion: 14.1\ncontent-type: application/vnd.ms-sync.wbxml\n\n\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01`,
    `POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=fuzz&DeviceId=FUZZ0001&DeviceType=iPhone\nauthorization: ${basic}\nms-asprotocolversion: 16.1\n\n\x03\x01\x6a\x00\x45\x5c\x4f\x4b\x03\x30\x00\x01\x52\x03\x31\x00\x01\x01\x01\x01`,
    `POST /autodiscover/autodiscover.xml\nauthorization: ${basic}\ncontent-type: text/xml\n\n<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><EMailAddress>fuzz@fuzz.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>`,
    ...ewsSeeds(basic),
  ].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff));

  const target: FuzzTarget = {
    name: "http",
    seeds,
    maxLen: 16384,
    async run(input) {
      const req = toRequest(input);
      if (!req) return;
      const res = await call(req);
      // Drain the body: streaming handlers can fail late.
      await res.arrayBuffer().catch((e: unknown) => {
        throw new Error(`response body failed for ${req.method} ${new URL(req.url).pathname}: ${String(e)}`);
      });
      // 500 is what app.onError answers for an exception escaping a handler; 501 (MS-ASHTTP
      // unknown command) and 503 (starting up) are deliberate answers.
      if (res.status === 500) throw new Error(`HTTP 500 for ${req.method} ${new URL(req.url).pathname}`);
    },
  };
  return {
    target,
    async close() {
      webmail.stop();
      await srv.close();
    },
  };
}

/** Exchange Web Services and SOAP autodiscover requests (protocols/http/ews, autodiscover/soap.ts). */
function ewsSeeds(basic: string): string[] {
  const env = (op: string) =>
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header><s:Body>${op}</s:Body></s:Envelope>`;
  const post = (op: string) => `POST /EWS/Exchange.asmx\nauthorization: ${basic}\ncontent-type: text/xml; charset=utf-8\n\n${env(op)}`;
  return [
    post(`<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/><t:DistinguishedFolderId Id="msgfolderroot"/></m:FolderIds></m:GetFolder>`),
    post(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="5" Offset="0" BasePoint="Beginning"/><m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`),
    post(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`),
    post(`<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items><t:Message><t:Subject>s</t:Subject><t:Body BodyType="Text">b</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>a@b.c</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem>`),
    post(`<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="fuzz@fuzz.test"/></m:SourceIds></m:ConvertId>`),
    post(`<m:GetServerTimeZones ReturnFullTimeZoneData="true"><m:Ids><t:Id>W. Europe Standard Time</t:Id></m:Ids></m:GetServerTimeZones>`),
    post(`<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>fu</m:UnresolvedEntry></m:ResolveNames>`),
    `POST /autodiscover/autodiscover.svc\nauthorization: ${basic}\ncontent-type: text/xml\n\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover"><s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>fuzz@fuzz.test</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>UserDN</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>`,
  ];
}

export { enc as _enc };
