/**
 * The numbers the address book speaks in: NSPI return codes (MS-OXNSPI
 * §2.2.1.2), the special minimal entry ids (§2.2.1.8), display types
 * (§2.2.1.3), the flags of the calls (§2.2.1.x) and the property tags
 * (MS-OXPROPS) of the directory's objects.
 */

/** MS-OXNSPI §2.2.1.2 return values (the ErrorCode of every NSPI response body). */
export const Ec = {
  Success: 0x00000000,
  ErrorsReturned: 0x00040380,
  GeneralFailure: 0x80004005,
  NotEnoughMemory: 0x8007000e,
  InvalidParameter: 0x80070057,
  AccessDenied: 0x80070005,
  NotSupported: 0x80040102,
  NotFound: 0x8004010f,
  TooComplex: 0x80040117,
  TableTooBig: 0x80040403,
  InvalidBookmark: 0x80040405,
  AmbiguousRecipient: 0x80040700,
} as const;

/** MS-OXNSPI §2.2.1.8 positioning minimal entry ids, and ResolveNames' answers (§2.2.1.9). */
export const MID_BEGINNING_OF_TABLE = 0x0;
export const MID_CURRENT = 0x1;
export const MID_END_OF_TABLE = 0x2;
export const MID_UNRESOLVED = 0x0;
export const MID_AMBIGUOUS = 0x1;
export const MID_RESOLVED = 0x2;
/** The first minimal id handed to a directory entry: above the special values. */
export const FIRST_MID = 0x10;

/** MS-OXNSPI §2.2.1.3 display types. */
export const DT_MAILUSER = 0x0;
export const DT_DISTLIST = 0x1;
export const DT_CONTAINER = 0x100;

/** MS-OXCDATA §2.2.5 / MAPI object types (PidTagObjectType). */
export const MAPI_ABCONT = 4;
export const MAPI_MAILUSER = 6;
export const MAPI_DISTLIST = 8;

/** MS-OXNSPI §2.2.1.4 retrieve-property flags (QueryRows, GetProps, GetMatches...). */
export const fEphID = 0x2;
/** MS-OXNSPI §2.2.1.6 GetSpecialTable flags. */
export const NspiAddressCreationTemplates = 0x2;
export const NspiUnicodeStrings = 0x4;
/** MS-OXNSPI §2.2.1.7 GetTemplateInfo flags. */
export const TI_TEMPLATE = 0x1;
/** MS-OXNSPI §2.2.1.10 / MS-OXCDATA AB container flags. */
export const AB_RECIPIENTS = 0x1;
export const AB_UNMODIFIABLE = 0x8;

/** The hierarchy table's version this server answers (GetSpecialTable Version). */
export const HIERARCHY_VERSION = 1;

/** The NSPI provider GUID of permanent entry ids (MS-OXNSPI §2.2.9.3), in wire byte order: {C840A7DC-42C0-1A10-B4B9-08002B2FE182}. */
export const GUID_NSPI = Uint8Array.of(0xdc, 0xa7, 0x40, 0xc8, 0xc0, 0x42, 0x10, 0x1a, 0xb4, 0xb9, 0x08, 0x00, 0x2b, 0x2f, 0xe1, 0x82);

/** Property tags (MS-OXPROPS), Unicode string forms; the 8-bit form is `(tag & ~0xffff) | 0x1e`. */
export const Tag = {
  EntryId: 0x0fff0102,
  ObjectType: 0x0ffe0003,
  RecordKey: 0x0ff90102,
  InstanceKey: 0x0ff60102,
  DisplayName: 0x3001001f,
  AddressType: 0x3002001f,
  EmailAddress: 0x3003001f,
  Depth: 0x30050003,
  SearchKey: 0x300b0102,
  ContainerFlags: 0x36000003,
  Anr: 0x360c001f,
  DisplayType: 0x39000003,
  DisplayTypeEx: 0x39050003,
  SmtpAddress: 0x39fe001f,
  DisplayNamePrintable: 0x39ff001f,
  Account: 0x3a00001f,
  GivenName: 0x3a06001f,
  Surname: 0x3a11001f,
  TransmittableDisplayName: 0x3a20001f,
  ProxyAddresses: 0x800f101f,
  ContainerId: 0xfffd0003,
  IsMaster: 0xfffb000b,
} as const;

export const propId = (tag: number): number => tag >>> 16;
export const propType = (tag: number): number => tag & 0xffff;
