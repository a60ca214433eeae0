/**
 * Fuzz targets for Exchange Web Services' request readers:
 *
 *  - "ews-soap": the SOAP reader (protocols/http/ews/xml.ts parseSoapXml),
 *    the envelope (soap.ts readEnvelope), and every parser an operation runs
 *    on parts of the body: shapes and property paths (shape.ts), UpdateItem
 *    changes, restrictions and QueryString (restriction.ts), and the id forms
 *    of ConvertId (convert-id.ts decodeId). Any input either parses or
 *    throws XmlError / SoapFault / EwsError (each answered as a fault or an
 *    Error response message); anything else is a defect.
 *  - "autodiscover-xml": the small reader of autodiscover requests
 *    (protocols/http/autodiscover/xml.ts): parses or throws XmlError.
 */
import fc from "fast-check";
import { EwsError, SoapFault } from "../../../protocols/http/ews/context.ts";
import { decodeId, encodeId, ID_FORMATS } from "../../../protocols/http/ews/convert-id.ts";
import { NS } from "../../../protocols/http/ews/ns.ts";
import { parseQueryString, parseRestriction, restrictionPaths } from "../../../protocols/http/ews/restriction.ts";
import { parseChanges, parseFolderShape, parseItemShape, parsePath } from "../../../protocols/http/ews/shape.ts";
import { readEnvelope } from "../../../protocols/http/ews/soap.ts";
import { parseSoapXml, XmlError, type XmlElement } from "../../../protocols/http/ews/xml.ts";
import { parseXml as parseAutodiscoverXml, XmlError as AdXmlError } from "../../../protocols/http/autodiscover/xml.ts";
import type { FuzzTarget } from "./engine.ts";

const enc = new TextEncoder();
const MAX_BODY = 1024 * 1024;

const ENV_OPEN = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${NS.soap}" xmlns:t="${NS.t}" xmlns:m="${NS.m}"><soap:Header><t:RequestServerVersion Version="Exchange2016"/></soap:Header><soap:Body>`;
const ENV_CLOSE = `</soap:Body></soap:Envelope>`;
const wrap = (op: string) => ENV_OPEN + op + ENV_CLOSE;

const SEEDS = [
  wrap(`<m:GetFolder><m:FolderShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/><t:ExtendedFieldURI PropertyTag="0x3613" PropertyType="String"/></t:AdditionalProperties></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>`),
  wrap(
    `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:BodyType>Text</t:BodyType><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress1"/><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="x" PropertyType="StringArray"/></t:AdditionalProperties></m:ItemShape>` +
      `<m:IndexedPageItemView MaxEntriesReturned="50" Offset="0" BasePoint="Beginning"/><m:Restriction><t:And><t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo><t:Not><t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="spam"/></t:Contains></t:Not><t:Exists><t:FieldURI FieldURI="item:Categories"/></t:Exists></t:And></m:Restriction>` +
      `<m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldOrder></m:SortOrder><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds><m:QueryString>subject:"hello world" AND from:alice</m:QueryString></m:FindItem>`,
  ),
  wrap(
    `<m:UpdateItem ConflictResolution="AutoResolve" MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange><t:ItemId Id="SToxOk06NDI=" ChangeKey="Q0s6MQ=="/><t:Updates><t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField><t:DeleteItemField><t:FieldURI FieldURI="item:Categories"/></t:DeleteItemField><t:AppendToItemField><t:FieldURI FieldURI="message:ToRecipients"/><t:Message><t:ToRecipients><t:Mailbox><t:EmailAddress>a@b.c</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></t:AppendToItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
  ),
  wrap(`<m:ConvertId DestinationFormat="HexEntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="SToxOk06NDI=" Mailbox="a@b.c"/><t:AlternateId Format="EntryId" Id="AAAAAFsfDmqT1EwuinwdL2C06RcHAA==" Mailbox="a@b.c"/></m:SourceIds></m:ConvertId>`),
  `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><s:Envelope xmlns:s="${NS.soap}"><s:Body>&b;</s:Body></s:Envelope>`,
  `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><m:GetFolder xmlns:m="${NS.m}"/></e:Body></e:Envelope>`,
  wrap(`<m:GetServerTimeZones ReturnFullTimeZoneData="true"><m:Ids><t:Id>W. Europe Standard Time</t:Id></m:Ids></m:GetServerTimeZones>`),
].map((s) => enc.encode(s));

function allowed(e: unknown): boolean {
  return e instanceof XmlError || e instanceof SoapFault || e instanceof EwsError;
}

function walk(el: XmlElement, visit: (e: XmlElement) => void, depth = 0): void {
  visit(el);
  if (depth < 128) for (const c of el.children) walk(c, visit, depth + 1);
}

/** Runs `fn`; documented errors are the parser doing its job. */
function guarded(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!allowed(e)) throw e;
  }
}

function runSoap(input: Uint8Array): void {
  let doc: XmlElement;
  try {
    doc = parseSoapXml(input, MAX_BODY);
  } catch (e) {
    if (e instanceof XmlError) return;
    throw e;
  }
  guarded(() => {
    const req = readEnvelope(doc);
    if (!req.operation || !Number.isInteger(req.version.level) || req.version.level < 0) throw new Error("invariant: readEnvelope returned no operation or a bad version");
  });
  let parsed = 0;
  walk(doc, (e) => {
    if (parsed++ > 2000) return;
    if (e.ns === NS.t && (e.name === "FieldURI" || e.name === "IndexedFieldURI" || e.name === "ExtendedFieldURI")) guarded(() => void parsePath(e));
    if (e.ns === NS.m && e.name === "ItemShape") guarded(() => void parseItemShape(e));
    if (e.ns === NS.m && e.name === "FolderShape") guarded(() => void parseFolderShape(e));
    if (e.ns === NS.t && e.name === "Updates") guarded(() => void parseChanges(e));
    if (e.ns === NS.m && e.name === "Restriction") guarded(() => void restrictionPaths(parseRestriction(e)));
    if (e.ns === NS.m && e.name === "QueryString") guarded(() => void restrictionPaths(parseQueryString(e.text)));
    const id = e.attrs.Id;
    if (id !== undefined) {
      for (const f of ID_FORMATS) {
        const target = decodeId(id, f);
        if (!target) continue;
        // Whatever decodes must encode, and its own encoding must decode to the same thing.
        guarded(() => {
          const again = decodeId(encodeId(target, f), f);
          if (JSON.stringify(again) !== JSON.stringify(target)) throw new Error(`invariant: ${f} id does not round-trip`);
        });
      }
    }
  });
}

function runAutodiscover(input: Uint8Array): void {
  try {
    parseAutodiscoverXml(new TextDecoder().decode(input));
  } catch (e) {
    if (e instanceof AdXmlError) return;
    throw e;
  }
}

const opName = fc.constantFrom("m:GetFolder", "m:FindItem", "m:GetItem", "m:UpdateItem", "m:ConvertId", "m:ItemShape", "m:FolderShape", "m:Restriction", "t:Updates", "t:And", "t:Or", "t:Not", "t:IsEqualTo", "t:Contains", "t:Exists", "t:Excludes", "t:SetItemField", "t:Message");
const leaf = fc.constantFrom(
  `<t:FieldURI FieldURI="item:Subject"/>`,
  `<t:FieldURI/>`,
  `<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="MobilePhone"/>`,
  `<t:ExtendedFieldURI PropertyTag="0x7fff" PropertyType="Integer"/>`,
  `<t:ExtendedFieldURI PropertySetId="00062008-0000-0000-c000-000000000046" PropertyId="0x8503" PropertyType="Boolean"/>`,
  `<t:ExtendedFieldURI PropertyTag="99999999" PropertyType="String"/>`,
  `<t:Constant Value="x"/>`,
  `<t:BaseShape>IdOnly</t:BaseShape>`,
  `<t:BaseShape>Everything</t:BaseShape>`,
  `<t:BodyType>Best</t:BodyType>`,
  `<t:AlternateId Format="HexEntryId" Id="00000000" Mailbox="x"/>`,
  `<t:ItemId Id="SToxOk06NDI="/>`,
  `<m:QueryString>a OR (b AND NOT c) "</m:QueryString>`,
);
const soapArb: fc.Arbitrary<Uint8Array> = fc
  .array(fc.oneof(opName.map((n) => `<${n}>`), opName.map((n) => `</${n}>`), leaf, fc.constantFrom("&amp;", "&#0;", "<![CDATA[x]]>", "<!-- c -->", ' Id="', "\u00e9"), fc.string({ maxLength: 6 })), { maxLength: 80 })
  .map((parts) => enc.encode(wrap(parts.join(""))));

export const EWS_SOAP_TARGET: FuzzTarget = { name: "ews-soap", seeds: SEEDS, run: runSoap, arbitrary: soapArb, maxLen: 65536 };

const AD_SEEDS = [
  `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>a@b.c</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`,
  `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.ad}"><s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>a@b.c</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>`,
  `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`,
].map((s) => enc.encode(s));

export const AUTODISCOVER_XML_TARGET: FuzzTarget = { name: "autodiscover-xml", seeds: AD_SEEDS, run: runAutodiscover, maxLen: 65536 };
