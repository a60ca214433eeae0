/**
 * Typed ROP requests and responses (MS-OXCROPS §2.2). A request is the
 * discriminated union `RopRequest` keyed by `ropId`; a response is
 * `RopResponse`, written by `writeRopResponse` (rops-write.ts). A response
 * whose `returnValue` is not 0 is written as the common failure buffer
 * (RopId, handle index, ReturnValue; MS-OXCROPS §2.2.1) and its success
 * fields are ignored.
 */
import type { PropTag, PropValue, PropertyProblem, TaggedValue } from "./proptypes.ts";
import type { Restriction, SortOrderSet } from "./restriction.ts";
import type { Id, LongTermId, PropertyName } from "./ids.ts";
import type { Cell } from "./propvalue.ts";
import type { ROP } from "./rop-ids.ts";

interface Base {
  logonId: number;
  inputHandleIndex: number;
}
interface WithOutput extends Base {
  outputHandleIndex: number;
}

/** §2.2.3.1.1 RopLogon. `essdn` is the mailbox DN (empty for the own mailbox). */
export interface LogonRequest { ropId: typeof ROP.Logon; logonId: number; outputHandleIndex: number; logonFlags: number; openFlags: number; storeState: number; essdn: string }
export interface ReleaseRequest extends Base { ropId: typeof ROP.Release }
export interface OpenFolderRequest extends WithOutput { ropId: typeof ROP.OpenFolder; folderId: Id; openModeFlags: number }
export interface OpenMessageRequest extends WithOutput { ropId: typeof ROP.OpenMessage; codePageId: number; folderId: Id; openModeFlags: number; messageId: Id }
export interface GetHierarchyTableRequest extends WithOutput { ropId: typeof ROP.GetHierarchyTable; tableFlags: number }
export interface GetContentsTableRequest extends WithOutput { ropId: typeof ROP.GetContentsTable; tableFlags: number }
export interface CreateMessageRequest extends WithOutput { ropId: typeof ROP.CreateMessage; codePageId: number; folderId: Id; associated: boolean }
export interface GetPropertiesSpecificRequest extends Base { ropId: typeof ROP.GetPropertiesSpecific; propertySizeLimit: number; wantUnicode: boolean; tags: PropTag[] }
export interface GetPropertiesAllRequest extends Base { ropId: typeof ROP.GetPropertiesAll; propertySizeLimit: number; wantUnicode: boolean }
export interface GetPropertiesListRequest extends Base { ropId: typeof ROP.GetPropertiesList }
export interface SetPropertiesRequest extends Base { ropId: typeof ROP.SetProperties; values: TaggedValue[] }
export interface SaveChangesMessageRequest extends Base { ropId: typeof ROP.SaveChangesMessage; responseHandleIndex: number; saveFlags: number }
/** MS-OXCDATA §2.8.3.1 RecipientRow, decoded. `properties` pairs with the request's columns. */
export interface RecipientRow {
  flags: number;
  /** Type bits (flags & 7): 1 X500DN, 3 SMTP ... (MS-OXCDATA §2.8.3.1). */
  addressType: number;
  addressPrefixUsed?: number;
  displayType?: number;
  x500dn?: string;
  entryId?: Uint8Array;
  searchKey?: Uint8Array;
  addressTypeString?: string;
  emailAddress?: string;
  displayName?: string;
  simpleDisplayName?: string;
  transmittableDisplayName?: string;
  properties: Cell[];
}
export interface ModifyRecipientRow { rowId: number; recipientType: number; row: RecipientRow | null }
export interface ModifyRecipientsRequest extends Base { ropId: typeof ROP.ModifyRecipients; columns: PropTag[]; rows: ModifyRecipientRow[] }
export interface ReadRecipientsRequest extends Base { ropId: typeof ROP.ReadRecipients; rowId: number }
export interface SetColumnsRequest extends Base { ropId: typeof ROP.SetColumns; flags: number; tags: PropTag[] }
export interface SortTableRequest extends Base { ropId: typeof ROP.SortTable; flags: number; sort: SortOrderSet }
export interface RestrictRequest extends Base { ropId: typeof ROP.Restrict; flags: number; restriction: Restriction | null }
export interface QueryRowsRequest extends Base { ropId: typeof ROP.QueryRows; flags: number; forwardRead: boolean; rowCount: number }
export interface GetStatusRequest extends Base { ropId: typeof ROP.GetStatus }
export interface QueryPositionRequest extends Base { ropId: typeof ROP.QueryPosition }
/** §2.2.5.8 RopSeekRow: origin 0 BOOKMARK_BEGINNING, 1 CURRENT, 2 END. */
export interface SeekRowRequest extends Base { ropId: typeof ROP.SeekRow; origin: number; rowCount: number; wantRowMovedCount: boolean }
export interface DeleteMessagesRequest extends Base { ropId: typeof ROP.DeleteMessages; wantAsynchronous: boolean; notifyNonRead: boolean; messageIds: Id[] }
export interface GetAttachmentTableRequest extends WithOutput { ropId: typeof ROP.GetAttachmentTable; tableFlags: number }
export interface OpenAttachmentRequest extends WithOutput { ropId: typeof ROP.OpenAttachment; flags: number; attachmentId: number }
export interface SetReceiveFolderRequest extends Base { ropId: typeof ROP.SetReceiveFolder; folderId: Id; messageClass: string }
export interface GetReceiveFolderRequest extends Base { ropId: typeof ROP.GetReceiveFolder; messageClass: string }
export interface RegisterNotificationRequest extends WithOutput { ropId: typeof ROP.RegisterNotification; notificationTypes: number; wantWholeStore: boolean; folderId: Id | null; messageId: Id | null }
export interface OpenStreamRequest extends WithOutput { ropId: typeof ROP.OpenStream; tag: PropTag; openModeFlags: number }
/** §2.2.9.2 RopReadStream: byteCount 0xBABE means "use maximumByteCount". */
export interface ReadStreamRequest extends Base { ropId: typeof ROP.ReadStream; byteCount: number; maximumByteCount: number | null }
export interface WriteStreamRequest extends Base { ropId: typeof ROP.WriteStream; data: Uint8Array }
export interface SeekStreamRequest extends Base { ropId: typeof ROP.SeekStream; origin: number; offset: bigint }
export interface CommitStreamRequest extends Base { ropId: typeof ROP.CommitStream }
export interface GetStreamSizeRequest extends Base { ropId: typeof ROP.GetStreamSize }
export interface SubmitMessageRequest extends Base { ropId: typeof ROP.SubmitMessage; submitFlags: number }
export interface GetRulesTableRequest extends WithOutput { ropId: typeof ROP.GetRulesTable; tableFlags: number }
/** MS-OXCROPS §2.2.11.1.1 RuleData: flags 0x01 add, 0x02 modify, 0x04 remove. */
export interface RuleData { flags: number; values: TaggedValue[] }
export interface ModifyRulesRequest extends Base { ropId: typeof ROP.ModifyRules; flags: number; rules: RuleData[] }
export interface LongTermIdFromIdRequest extends Base { ropId: typeof ROP.LongTermIdFromId; objectId: Id }
export interface IdFromLongTermIdRequest extends Base { ropId: typeof ROP.IdFromLongTermId; longTermId: LongTermId }
export interface GetNamesFromPropertyIdsRequest extends Base { ropId: typeof ROP.GetNamesFromPropertyIds; propertyIds: number[] }
export interface GetPropertyIdsFromNamesRequest extends Base { ropId: typeof ROP.GetPropertyIdsFromNames; flags: number; names: PropertyName[] }
export interface GetPerUserLongTermIdsRequest extends Base { ropId: typeof ROP.GetPerUserLongTermIds; databaseGuid: string }

export type RopRequest =
  | LogonRequest | ReleaseRequest | OpenFolderRequest | OpenMessageRequest | GetHierarchyTableRequest
  | GetContentsTableRequest | CreateMessageRequest | GetPropertiesSpecificRequest | GetPropertiesAllRequest
  | GetPropertiesListRequest | SetPropertiesRequest | SaveChangesMessageRequest | ModifyRecipientsRequest
  | ReadRecipientsRequest | SetColumnsRequest | SortTableRequest | RestrictRequest | QueryRowsRequest
  | GetStatusRequest | QueryPositionRequest | SeekRowRequest | DeleteMessagesRequest | GetAttachmentTableRequest
  | OpenAttachmentRequest | SetReceiveFolderRequest | GetReceiveFolderRequest | RegisterNotificationRequest
  | OpenStreamRequest | ReadStreamRequest | WriteStreamRequest | SeekStreamRequest | CommitStreamRequest
  | GetStreamSizeRequest | SubmitMessageRequest | GetRulesTableRequest | ModifyRulesRequest
  | LongTermIdFromIdRequest | IdFromLongTermIdRequest | GetNamesFromPropertyIdsRequest
  | GetPropertyIdsFromNamesRequest | GetPerUserLongTermIdsRequest;

/**
 * A ROP whose RopId the parser does not know: parsing stops there, since
 * request sizes are per-ROP. The engine answers it with `unknownRopResponse`.
 */
export interface UnknownRop { ropId: number; logonId: number; inputHandleIndex: number; unknown: true }

// ---------------------------------------------------------------- responses

/** Every response carries the handle index the spec names for it (output or input) and a ReturnValue. */
interface RBase { handleIndex: number; returnValue: number }

/** MS-OXCROPS §2.2.3.1.2 LogonTime. */
export interface LogonTime { seconds: number; minutes: number; hour: number; dayOfWeek: number; day: number; month: number; year: number }
/** §2.2.3.1.2 RopLogon success response for a private mailbox. `folderIds` are the 13 special folders in spec order. */
export interface LogonResponse extends RBase {
  ropId: typeof ROP.Logon;
  logonFlags: number;
  folderIds: Id[];
  responseFlags: number;
  mailboxGuid: string;
  replId: number;
  replGuid: string;
  logonTime: LogonTime;
  gwartTime: bigint;
  storeState: number;
}
/** §2.2.3.1.4 RopLogon redirect response (ReturnValue ecWrongServer). */
export interface LogonRedirectResponse extends RBase { ropId: typeof ROP.Logon; redirect: true; logonFlags: number; serverName: string }
export interface OpenFolderResponse extends RBase { ropId: typeof ROP.OpenFolder; hasRules: boolean; isGhosted: boolean; servers?: string[]; cheapServerCount?: number }
/** MS-OXCDATA §2.11.? TypedString: null = StringType 0x00 (absent), "" = 0x01 (empty), else 0x04 (UTF-16). */
export interface OpenMessageResponse extends RBase {
  ropId: typeof ROP.OpenMessage;
  hasNamedProperties: boolean;
  subjectPrefix: string | null;
  normalizedSubject: string | null;
  recipientCount: number;
  recipientColumns: PropTag[];
  /** OpenRecipientRow (§2.2.6.1.2): rows already encoded as RecipientRow bytes by `encodeRecipientRow`. */
  recipientRows: { recipientType: number; codePageId: number; row: Uint8Array }[];
}
export interface TableResponse extends RBase { ropId: typeof ROP.GetHierarchyTable | typeof ROP.GetContentsTable; rowCount: number }
export interface CreateMessageResponse extends RBase { ropId: typeof ROP.CreateMessage; messageId: Id | null }
/** `row` pairs with the request's tags (PropertyRow, MS-OXCDATA §2.8.1). */
export interface GetPropertiesSpecificResponse extends RBase { ropId: typeof ROP.GetPropertiesSpecific; columns: PropTag[]; row: Cell[] }
export interface GetPropertiesAllResponse extends RBase { ropId: typeof ROP.GetPropertiesAll; values: TaggedValue[] }
export interface GetPropertiesListResponse extends RBase { ropId: typeof ROP.GetPropertiesList; tags: PropTag[] }
export interface SetPropertiesResponse extends RBase { ropId: typeof ROP.SetProperties; problems: PropertyProblem[] }
export interface SaveChangesMessageResponse extends RBase { ropId: typeof ROP.SaveChangesMessage; inputHandleIndex: number; messageId: Id }
export interface ReadRecipientsResponse extends RBase { ropId: typeof ROP.ReadRecipients; rows: { rowId: number; recipientType: number; codePageId: number; row: Uint8Array }[] }
/** §2.2.5.1.2 TableStatus: 0x00 complete, 0x09 sorting, 0x0A sort error ... */
export interface TableStatusResponse extends RBase { ropId: typeof ROP.SetColumns | typeof ROP.SortTable | typeof ROP.Restrict | typeof ROP.GetStatus; tableStatus: number }
/** §2.2.5.4.2 RopQueryRows: origin 0 beginning, 1 current, 2 end; rows pair with the table's columns. */
export interface QueryRowsResponse extends RBase { ropId: typeof ROP.QueryRows; origin: number; columns: PropTag[]; rows: Cell[][] }
export interface QueryPositionResponse extends RBase { ropId: typeof ROP.QueryPosition; numerator: number; denominator: number }
export interface SeekRowResponse extends RBase { ropId: typeof ROP.SeekRow; hasSoughtLess: boolean; rowsSought: number }
export interface DeleteMessagesResponse extends RBase { ropId: typeof ROP.DeleteMessages; partialCompletion: boolean }
export interface GetReceiveFolderResponse extends RBase { ropId: typeof ROP.GetReceiveFolder; folderId: Id; explicitMessageClass: string }
export interface OpenStreamResponse extends RBase { ropId: typeof ROP.OpenStream; streamSize: number }
/** §2.2.9.2.2 RopReadStream: DataSize and Data are present on failure too. */
export interface ReadStreamResponse extends RBase { ropId: typeof ROP.ReadStream; data: Uint8Array }
export interface WriteStreamResponse extends RBase { ropId: typeof ROP.WriteStream; writtenSize: number }
export interface SeekStreamResponse extends RBase { ropId: typeof ROP.SeekStream; newPosition: bigint }
export interface GetStreamSizeResponse extends RBase { ropId: typeof ROP.GetStreamSize; streamSize: number }
export interface LongTermIdFromIdResponse extends RBase { ropId: typeof ROP.LongTermIdFromId; longTermId: LongTermId }
export interface IdFromLongTermIdResponse extends RBase { ropId: typeof ROP.IdFromLongTermId; objectId: Id }
export interface GetNamesFromPropertyIdsResponse extends RBase { ropId: typeof ROP.GetNamesFromPropertyIds; names: PropertyName[] }
export interface GetPropertyIdsFromNamesResponse extends RBase { ropId: typeof ROP.GetPropertyIdsFromNames; propertyIds: number[] }
export interface GetPerUserLongTermIdsResponse extends RBase { ropId: typeof ROP.GetPerUserLongTermIds; longTermIds: LongTermId[] }
/** ROPs whose success response is only RopId, handle index, ReturnValue. */
export interface PlainResponse extends RBase {
  ropId:
    | typeof ROP.GetAttachmentTable | typeof ROP.OpenAttachment | typeof ROP.SetReceiveFolder
    | typeof ROP.RegisterNotification | typeof ROP.SubmitMessage | typeof ROP.GetRulesTable | typeof ROP.ModifyRules
    | typeof ROP.ModifyRecipients | typeof ROP.CommitStream;
}
/** Any ROP's failure response (ReturnValue != 0), including an unknown RopId's. */
export interface ErrorResponse extends RBase { ropId: number; error: true }

export type RopResponse =
  | LogonResponse | LogonRedirectResponse | OpenFolderResponse | OpenMessageResponse | TableResponse
  | CreateMessageResponse | GetPropertiesSpecificResponse | GetPropertiesAllResponse | GetPropertiesListResponse
  | SetPropertiesResponse | SaveChangesMessageResponse | ReadRecipientsResponse | TableStatusResponse
  | QueryRowsResponse | QueryPositionResponse | SeekRowResponse | DeleteMessagesResponse | GetReceiveFolderResponse
  | OpenStreamResponse | ReadStreamResponse | WriteStreamResponse | SeekStreamResponse | GetStreamSizeResponse
  | LongTermIdFromIdResponse | IdFromLongTermIdResponse | GetNamesFromPropertyIdsResponse
  | GetPropertyIdsFromNamesResponse | GetPerUserLongTermIdsResponse | PlainResponse | ErrorResponse;

/** The parsed ROP buffer payload (MS-OXCRPC §2.2.2.2 / MS-OXCROPS §2.2.1). */
export interface RopBufferRequest {
  rops: RopRequest[];
  /** Set when parsing stopped at a RopId this codec does not know (the rest of the buffer is not parsed). */
  unknown: UnknownRop | null;
  /** ServerObjectHandleTable: one u32 per handle index. */
  handles: number[];
}

export type { PropValue };
