/**
 * Where each t:Contact property (Types.xsd ContactItemType, MS-OXWSCONT
 * §2.2.4.3) lives in ActiveSync's contact model (MS-ASCNTC element names,
 * ../eas/groupware/contact-fields.ts), which maps them to vCard lines. EWS
 * and ActiveSync show the same Outlook contact, so one vCard mapping serves
 * both: an EWS contact is translated into the ActiveSync element tree and
 * merged onto the stored card by the same code.
 */
import { EwsError } from "./context.ts";
import type { PropertyPath } from "./shape.ts";

/** One-value fields: EWS FieldURI -> ActiveSync element. */
export const SIMPLE: Record<string, string> = {
  "contacts:GivenName": "Contacts:FirstName",
  "contacts:MiddleName": "Contacts:MiddleName",
  "contacts:Surname": "Contacts:LastName",
  "contacts:Generation": "Contacts:Suffix",
  "contacts:Nickname": "Contacts2:NickName",
  "contacts:CompanyName": "Contacts:CompanyName",
  "contacts:Department": "Contacts:Department",
  "contacts:JobTitle": "Contacts:JobTitle",
  "contacts:AssistantName": "Contacts:AssistantName",
  "contacts:Manager": "Contacts2:ManagerName",
  "contacts:OfficeLocation": "Contacts:OfficeLocation",
  "contacts:SpouseName": "Contacts:Spouse",
  "contacts:BusinessHomePage": "Contacts:WebPage",
  "contacts:PhoneticFirstName": "Contacts:YomiFirstName",
  "contacts:PhoneticLastName": "Contacts:YomiLastName",
};

/** Date fields (xs:dateTime in EWS, a date in the card). */
export const DATES: Record<string, string> = {
  "contacts:Birthday": "Contacts:Birthday",
  "contacts:WeddingAnniversary": "Contacts:Anniversary",
};

/** Types.xsd EmailAddressKeyType. */
export const EMAIL_KEYS: Record<string, string> = {
  EmailAddress1: "Contacts:Email1Address",
  EmailAddress2: "Contacts:Email2Address",
  EmailAddress3: "Contacts:Email3Address",
};

/** Types.xsd ImAddressKeyType. */
export const IM_KEYS: Record<string, string> = {
  ImAddress1: "Contacts2:IMAddress",
  ImAddress2: "Contacts2:IMAddress2",
  ImAddress3: "Contacts2:IMAddress3",
};

/**
 * Types.xsd PhoneNumberKeyType keys the card keeps (each is a TEL with its
 * TYPE). OtherTelephone, Callback, Isdn, OtherFax, PrimaryPhone, Telex and
 * TtyTddPhone have no place in the model: refused, never silently dropped.
 */
export const PHONE_KEYS: Record<string, string> = {
  BusinessPhone: "Contacts:BusinessPhoneNumber",
  BusinessPhone2: "Contacts:Business2PhoneNumber",
  HomePhone: "Contacts:HomePhoneNumber",
  HomePhone2: "Contacts:Home2PhoneNumber",
  MobilePhone: "Contacts:MobilePhoneNumber",
  BusinessFax: "Contacts:BusinessFaxNumber",
  HomeFax: "Contacts:HomeFaxNumber",
  Pager: "Contacts:PagerNumber",
  CarPhone: "Contacts:CarPhoneNumber",
  RadioPhone: "Contacts:RadioPhoneNumber",
  AssistantPhone: "Contacts:AssistantPhoneNumber",
  CompanyMainPhone: "Contacts2:CompanyMainPhone",
};

/** Types.xsd PhysicalAddressKeyType (Business, Home, Other) and PhysicalAddressDictionaryEntryType's parts. */
export const ADDRESS_KEYS = ["Business", "Home", "Other"] as const;
export const ADDRESS_PARTS: Record<string, string> = {
  Street: "Street",
  City: "City",
  State: "State",
  CountryOrRegion: "Country",
  PostalCode: "PostalCode",
};

export const CATEGORIES = "Contacts:Categories";
export const CHILDREN = "Contacts:Children";
export const BODY = "AirSyncBase:Body";
export const FILE_AS = "Contacts:FileAs";

/**
 * Types.xsd ItemType's elements other than Body, Categories and
 * ExtendedProperty: message, reminder and bookkeeping properties a contact
 * has no place for. exchangelib sends some of them with every contact
 * (ReminderIsSet, Sensitivity, Importance...), Outlook others.
 */
export const ITEM_ONLY = [
  "MimeContent", "ItemId", "ParentFolderId", "ItemClass", "Subject", "Sensitivity", "Attachments", "DateTimeReceived", "Size",
  "Importance", "InReplyTo", "IsSubmitted", "IsDraft", "IsFromMe", "IsResend", "IsUnmodified", "InternetMessageHeaders",
  "DateTimeSent", "DateTimeCreated", "ResponseObjects", "ReminderDueBy", "ReminderIsSet", "ReminderMinutesBeforeStart",
  "DisplayCc", "DisplayTo", "HasAttachments", "Culture", "EffectiveRights", "LastModifiedName", "LastModifiedTime",
  "IsAssociated", "WebClientReadFormQueryString", "WebClientEditFormQueryString", "ConversationId", "UniqueBody", "Flag",
  "StoreEntryId", "InstanceKey", "NormalizedBody", "PolicyTag", "ArchiveTag", "RetentionDate", "Preview", "TextBody", "IconIndex",
];

/**
 * Properties a client may send that the card does not keep and that carry
 * no data worth refusing a contact for (Outlook and exchangelib send some by
 * default): accepted, not stored.
 */
export const IGNORED = new Set([
  ...ITEM_ONLY.map((n) => `item:${n}`),
  "contacts:FileAsMapping",
  "contacts:Initials",
  "contacts:PostalAddressIndex",
  "contacts:ContactSource",
  "contacts:Companies",
  "contacts:Profession",
  "contacts:Mileage",
  "contacts:PhoneticFullName",
]);

/** Types.xsd PhoneNumberKeyType values without a place in the card (a Delete of one changes nothing). */
const UNKEPT_PHONE_KEYS = new Set(["Callback", "Isdn", "OtherFax", "OtherTelephone", "PrimaryPhone", "Telex", "TtyTddPhone"]);

/**
 * The ActiveSync elements a property path covers (for UpdateItem: what a Set
 * replaces and a Delete clears). Deleting a phone key the card cannot hold
 * covers nothing (exchangelib deletes every key it did not set); setting one
 * is refused.
 */
export function coveredBy(path: PropertyPath, op: "set" | "append" | "delete" = "set"): string[] {
  if (op === "delete" && path.kind === "indexed" && path.uri === "contacts:PhoneNumber" && UNKEPT_PHONE_KEYS.has(path.index)) return [];
  if (path.kind === "extended") throw new EwsError("ErrorInvalidPropertyRequest", "Extended properties are not kept on contacts.");
  if (path.kind === "field") {
    const u = path.uri;
    if (SIMPLE[u]) return [SIMPLE[u]];
    if (DATES[u]) return [DATES[u]];
    if (u === "contacts:DisplayName" || u === "contacts:FileAs") return [FILE_AS];
    if (u === "contacts:EmailAddresses") return Object.values(EMAIL_KEYS);
    if (u === "contacts:PhoneNumbers") return Object.values(PHONE_KEYS);
    if (u === "contacts:ImAddresses") return Object.values(IM_KEYS);
    if (u === "contacts:PhysicalAddresses") return ADDRESS_KEYS.flatMap((k) => Object.values(ADDRESS_PARTS).map((p) => `Contacts:${k}Address${p}`));
    if (u === "item:Categories") return [CATEGORIES];
    if (u === "contacts:Children") return [CHILDREN];
    if (u === "item:Body") return [BODY];
    if (IGNORED.has(u)) return [];
    throw new EwsError("ErrorInvalidPropertyRequest", `The property ${u} cannot be changed on a contact.`);
  }
  const { uri, index } = path;
  const fail = () => new EwsError("ErrorInvalidPropertyRequest", `The property ${uri}[${index}] is not kept on contacts.`);
  if (uri === "contacts:EmailAddress") return [EMAIL_KEYS[index] ?? throwIt(fail())];
  if (uri === "contacts:ImAddress") return [IM_KEYS[index] ?? throwIt(fail())];
  if (uri === "contacts:PhoneNumber") return [PHONE_KEYS[index] ?? throwIt(fail())];
  const pa = /^contacts:PhysicalAddress:(\w+)$/.exec(uri);
  if (pa && (ADDRESS_KEYS as readonly string[]).includes(index) && ADDRESS_PARTS[pa[1]!]) return [`Contacts:${index}Address${ADDRESS_PARTS[pa[1]!]}`];
  throw fail();
}

function throwIt(e: Error): never {
  throw e;
}
