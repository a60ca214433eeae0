/**
 * ActiveSync WBXML code pages: every tag token of MS-ASWBXML §2.1.2.1
 * (code pages 0x00–0x18, and 0x19 Find for protocol 16.1).
 *
 * Each page's namespace is the XML namespace the MS-AS* schemas use for it
 * (MS-ASWBXML §2.1.2.1: "Each code page ... corresponds to a namespace").
 * Tokens 0x00–0x04 and 0x40–0x44, 0x80–0x84, 0xC0–0xC4 are WBXML global
 * tokens (WAP-192 §7.1), so tag tokens live in 0x05–0x3F; bit 0x40 marks
 * "has content" and bit 0x80 "has attributes" (ActiveSync never uses
 * attributes).
 *
 * Tokens the specification marked as no longer used by current protocol
 * versions (e.g. AirSync Version 0x11, Email Attachment 0x05) are kept so
 * that documents from old clients still decode; nothing emits them.
 */

export interface CodePage {
  id: number;
  namespace: string;
  /** token -> tag name */
  tags: ReadonlyMap<number, string>;
  /** tag name -> token */
  tokens: ReadonlyMap<string, number>;
}

function page(id: number, namespace: string, list: [number, string][]): CodePage {
  const tags = new Map<number, string>();
  const tokens = new Map<string, number>();
  for (const [tok, name] of list) {
    if (tok < 0x05 || tok > 0x3f) throw new Error(`bad token ${tok} in ${namespace}`);
    if (tags.has(tok) || tokens.has(name)) throw new Error(`duplicate ${name}/${tok} in ${namespace}`);
    tags.set(tok, name);
    tokens.set(name, tok);
  }
  return { id, namespace, tags, tokens };
}

/** Builds [token, name] pairs from a starting token and a list; `null` skips a token. */
function seq(start: number, names: (string | null)[]): [number, string][] {
  const out: [number, string][] = [];
  names.forEach((n, i) => {
    if (n !== null) out.push([start + i, n]);
  });
  return out;
}

// MS-ASWBXML §2.1.2.1.1 Code Page 0: AirSync
const AirSync = page(0x00, "AirSync", seq(0x05, [
  "Sync", "Responses", "Add", "Change", "Delete", "Fetch", "SyncKey", "ClientId", "ServerId", "Status",
  "Collection", "Class", "Version", "CollectionId", "GetChanges", "MoreAvailable", "WindowSize", "Commands",
  "Options", "FilterType", "Truncation", "RTFTruncation", "Conflict", "Collections", "ApplicationData",
  "DeletesAsMoves", "NotifyGUID", "Supported", "SoftDelete", "MIMESupport", "MIMETruncation", "Wait", "Limit",
  "Partial", "ConversationMode", "MaxItems", "HeartbeatInterval",
]));

// §2.1.2.1.2 Code Page 1: Contacts
const Contacts = page(0x01, "Contacts", seq(0x05, [
  "Anniversary", "AssistantName", "AssistantPhoneNumber", "Birthday", "Body", "BodySize", "BodyTruncated",
  "Business2PhoneNumber", "BusinessAddressCity", "BusinessAddressCountry", "BusinessAddressPostalCode",
  "BusinessAddressState", "BusinessAddressStreet", "BusinessFaxNumber", "BusinessPhoneNumber", "CarPhoneNumber",
  "Categories", "Category", "Children", "Child", "CompanyName", "Department", "Email1Address", "Email2Address",
  "Email3Address", "FileAs", "FirstName", "Home2PhoneNumber", "HomeAddressCity", "HomeAddressCountry",
  "HomeAddressPostalCode", "HomeAddressState", "HomeAddressStreet", "HomeFaxNumber", "HomePhoneNumber", "JobTitle",
  "LastName", "MiddleName", "MobilePhoneNumber", "OfficeLocation", "OtherAddressCity", "OtherAddressCountry",
  "OtherAddressPostalCode", "OtherAddressState", "OtherAddressStreet", "PagerNumber", "RadioPhoneNumber", "Spouse",
  "Suffix", "Title", "WebPage", "YomiCompanyName", "YomiFirstName", "YomiLastName", "CompressedRTF", "Picture",
  "Alias", "WeightedRank",
]));

// §2.1.2.1.3 Code Page 2: Email
const Email = page(0x02, "Email", seq(0x05, [
  "Attachment", "Attachments", "AttName", "AttSize", "AttOid", "AttMethod", "AttRemoved", "Body", "BodySize",
  "BodyTruncated", "DateReceived", "DisplayName", "DisplayTo", "Importance", "MessageClass", "Subject", "Read",
  "To", "Cc", "From", "ReplyTo", "AllDayEvent", "Categories", "Category", "DtStamp", "EndTime", "InstanceType",
  "BusyStatus", "Location", "MeetingRequest", "Organizer", "RecurrenceId", "Reminder", "ResponseRequested",
  "Recurrences", "Recurrence", "Type", "Until", "Occurrences", "Interval", "DayOfWeek", "DayOfMonth",
  "WeekOfMonth", "MonthOfYear", "StartTime", "Sensitivity", "TimeZone", "GlobalObjId", "ThreadTopic", "MIMEData",
  "MIMETruncated", "MIMESize", "InternetCPID", "Flag", "Status", "ContentClass", "FlagType", "CompleteTime",
  "DisallowNewTimeProposal",
]));

// §2.1.2.1.4 Code Page 3: AirNotify (no longer used by any current protocol version)
const AirNotify = page(0x03, "AirNotify", seq(0x05, [
  "Notify", "Notification", "Version", "LifeTime", "DeviceInfo", "Enable", "Folder", "ServerId", "DeviceAddress",
  "ValidCarrierProfiles", "CarrierProfile", "Status", "Responses", "Devices", "Device", "Id", "Expiry",
  "NotifyGUID", "DeviceFriendlyName",
]));

// §2.1.2.1.5 Code Page 4: Calendar (0x2B–0x32 are unassigned)
const Calendar = page(0x04, "Calendar", [
  ...seq(0x05, [
    "Timezone", "AllDayEvent", "Attendees", "Attendee", "Email", "Name", "Body", "BodyTruncated", "BusyStatus",
    "Categories", "Category", "CompressedRTF", "DtStamp", "EndTime", "Exception", "Exceptions", "Deleted",
    "ExceptionStartTime", "Location", "MeetingStatus", "OrganizerEmail", "OrganizerName", "Recurrence", "Type",
    "Until", "Occurrences", "Interval", "DayOfWeek", "DayOfMonth", "WeekOfMonth", "MonthOfYear", "Reminder",
    "Sensitivity", "Subject", "StartTime", "UID", "AttendeeStatus", "AttendeeType",
  ]),
  ...seq(0x33, [
    "DisallowNewTimeProposal", "ResponseRequested", "AppointmentReplyTime", "ResponseType", "CalendarType",
    "IsLeapMonth", "FirstDayOfWeek", "OnlineMeetingConfLink", "OnlineMeetingExternalLink", "ClientUid",
  ]),
]);

// §2.1.2.1.6 Code Page 5: Move
const Move = page(0x05, "Move", seq(0x05, ["MoveItems", "Move", "SrcMsgId", "SrcFldId", "DstFldId", "Response", "Status", "DstMsgId"]));

// §2.1.2.1.7 Code Page 6: GetItemEstimate
const GetItemEstimate = page(0x06, "GetItemEstimate", seq(0x05, [
  "GetItemEstimate", "Version", "Collections", "Collection", "Class", "CollectionId", "DateTime", "Estimate",
  "Response", "Status",
]));

// §2.1.2.1.8 Code Page 7: FolderHierarchy
const FolderHierarchy = page(0x07, "FolderHierarchy", seq(0x05, [
  "Folders", "Folder", "DisplayName", "ServerId", "ParentId", "Type", "Response", "Status", "ContentClass",
  "Changes", "Add", "Delete", "Update", "SyncKey", "FolderCreate", "FolderDelete", "FolderUpdate", "FolderSync",
  "Count", "Version",
]));

// §2.1.2.1.9 Code Page 8: MeetingResponse (0x0F unassigned)
const MeetingResponse = page(0x08, "MeetingResponse", [
  ...seq(0x05, ["CalendarId", "CollectionId", "MeetingResponse", "RequestId", "Request", "Result", "Status", "UserResponse", "Version", "InstanceId"]),
  ...seq(0x10, ["ProposedStartTime", "ProposedEndTime", "SendResponse"]),
]);

// §2.1.2.1.10 Code Page 9: Tasks
const Tasks = page(0x09, "Tasks", seq(0x05, [
  "Body", "BodySize", "BodyTruncated", "Categories", "Category", "Complete", "DateCompleted", "DueDate",
  "UtcDueDate", "Importance", "Recurrence", "Type", "Start", "Until", "Occurrences", "Interval", "DayOfMonth",
  "DayOfWeek", "WeekOfMonth", "MonthOfYear", "Regenerate", "DeadOccur", "ReminderSet", "ReminderTime",
  "Sensitivity", "StartDate", "UtcStartDate", "Subject", "CompressedRTF", "OrdinalDate", "SubOrdinalDate",
  "CalendarType", "IsLeapMonth", "FirstDayOfWeek",
]));

// §2.1.2.1.11 Code Page 10: ResolveRecipients
const ResolveRecipients = page(0x0a, "ResolveRecipients", seq(0x05, [
  "ResolveRecipients", "Response", "Status", "Type", "Recipient", "DisplayName", "EmailAddress", "Certificates",
  "Certificate", "MiniCertificate", "Options", "To", "CertificateRetrieval", "RecipientCount", "MaxCertificates",
  "MaxAmbiguousRecipients", "CertificateCount", "Availability", "StartTime", "EndTime", "MergedFreeBusy",
  "Picture", "MaxSize", "Data", "MaxPictures",
]));

// §2.1.2.1.12 Code Page 11: ValidateCert
const ValidateCert = page(0x0b, "ValidateCert", seq(0x05, ["ValidateCert", "Certificates", "Certificate", "CertificateChain", "CheckCRL", "Status"]));

// §2.1.2.1.13 Code Page 12: Contacts2
const Contacts2 = page(0x0c, "Contacts2", seq(0x05, [
  "CustomerId", "GovernmentId", "IMAddress", "IMAddress2", "IMAddress3", "ManagerName", "CompanyMainPhone",
  "AccountName", "NickName", "MMS",
]));

// §2.1.2.1.14 Code Page 13: Ping
const Ping = page(0x0d, "Ping", seq(0x05, ["Ping", "AutdState", "Status", "HeartbeatInterval", "Folders", "Folder", "Id", "Class", "MaxFolders"]));

// §2.1.2.1.15 Code Page 14: Provision
const Provision = page(0x0e, "Provision", seq(0x05, [
  "Provision", "Policies", "Policy", "PolicyType", "PolicyKey", "Data", "Status", "RemoteWipe", "EASProvisionDoc",
  "DevicePasswordEnabled", "AlphanumericDevicePasswordRequired", "RequireStorageCardEncryption",
  "PasswordRecoveryEnabled", "DocumentBrowseEnabled", "AttachmentsEnabled", "MinDevicePasswordLength",
  "MaxInactivityTimeDeviceLock", "MaxDevicePasswordFailedAttempts", "MaxAttachmentSize",
  "AllowSimpleDevicePassword", "DevicePasswordExpiration", "DevicePasswordHistory", "AllowStorageCard",
  "AllowCamera", "RequireDeviceEncryption", "AllowUnsignedApplications", "AllowUnsignedInstallationPackages",
  "MinDevicePasswordComplexCharacters", "AllowWiFi", "AllowTextMessaging", "AllowPOPIMAPEmail", "AllowBluetooth",
  "AllowIrDA", "RequireManualSyncWhenRoaming", "AllowDesktopSync", "MaxCalendarAgeFilter", "AllowHTMLEmail",
  "MaxEmailAgeFilter", "MaxEmailBodyTruncationSize", "MaxEmailHTMLBodyTruncationSize",
  "RequireSignedSMIMEMessages", "RequireEncryptedSMIMEMessages", "RequireSignedSMIMEAlgorithm",
  "RequireEncryptionSMIMEAlgorithm", "AllowSMIMEEncryptionAlgorithmNegotiation", "AllowSMIMESoftCerts",
  "AllowBrowser", "AllowConsumerEmail", "AllowRemoteDesktop", "AllowInternetSharing",
  "UnapprovedInROMApplicationList", "ApplicationName", "ApprovedApplicationList", "Hash", "AccountOnlyRemoteWipe",
]));

// §2.1.2.1.16 Code Page 15: Search
const Search = page(0x0f, "Search", seq(0x05, [
  "Search", "Stores", "Store", "Name", "Query", "Options", "Range", "Status", "Response", "Result", "Properties",
  "Total", "EqualTo", "Value", "And", "Or", "FreeText", "SubstringOp", "DeepTraversal", "LongId",
  "RebuildResults", "LessThan", "GreaterThan", "Schema", "Supported", "UserName", "Password", "ConversationId",
  "Picture", "MaxSize", "MaxPictures",
]));

// §2.1.2.1.17 Code Page 16: GAL
const GAL = page(0x10, "GAL", seq(0x05, [
  "DisplayName", "Phone", "Office", "Title", "Company", "Alias", "FirstName", "LastName", "HomePhone",
  "MobilePhone", "EmailAddress", "Picture", "Status", "Data",
]));

// §2.1.2.1.18 Code Page 17: AirSyncBase (0x09 unassigned)
const AirSyncBase = page(0x11, "AirSyncBase", [
  ...seq(0x05, ["BodyPreference", "Type", "TruncationSize", "AllOrNone"]),
  ...seq(0x0a, [
    "Body", "Data", "EstimatedDataSize", "Truncated", "Attachments", "Attachment", "DisplayName", "FileReference",
    "Method", "ContentId", "ContentLocation", "IsInline", "NativeBodyType", "ContentType", "Preview",
    "BodyPartPreference", "BodyPart", "Status", "Add", "Delete", "ClientId", "Content", "Location", "Annotation",
    "Street", "City", "State", "Country", "PostalCode", "Latitude", "Longitude", "Accuracy", "Altitude",
    "AltitudeAccuracy", "LocationUri", "InstanceId",
  ]),
]);

// §2.1.2.1.19 Code Page 18: Settings (0x2A unassigned)
const Settings = page(0x12, "Settings", [
  ...seq(0x05, [
    "Settings", "Status", "Get", "Set", "Oof", "OofState", "StartTime", "EndTime", "OofMessage",
    "AppliesToInternal", "AppliesToExternalKnown", "AppliesToExternalUnknown", "Enabled", "ReplyMessage",
    "BodyType", "DevicePassword", "Password", "DeviceInformation", "Model", "IMEI", "FriendlyName", "OS",
    "OSLanguage", "PhoneNumber", "UserInformation", "EmailAddresses", "SmtpAddress", "UserAgent",
    "EnableOutboundSMS", "MobileOperator", "PrimarySmtpAddress", "Accounts", "Account", "AccountId", "AccountName",
    "UserDisplayName", "SendDisabled",
  ]),
  [0x2b, "RightsManagementInformation"],
]);

// §2.1.2.1.20 Code Page 19: DocumentLibrary
const DocumentLibrary = page(0x13, "DocumentLibrary", seq(0x05, [
  "LinkId", "DisplayName", "IsFolder", "CreationDate", "LastModifiedDate", "IsHidden", "ContentLength", "ContentType",
]));

// §2.1.2.1.21 Code Page 20: ItemOperations
const ItemOperations = page(0x14, "ItemOperations", seq(0x05, [
  "ItemOperations", "Fetch", "Store", "Options", "Range", "Total", "Properties", "Data", "Status", "Response",
  "Version", "Schema", "Part", "EmptyFolderContents", "DeleteSubFolders", "UserName", "Password", "Move",
  "DstFldId", "ConversationId", "MoveAlways",
]));

// §2.1.2.1.22 Code Page 21: ComposeMail (0x0A and 0x14 unassigned)
const ComposeMail = page(0x15, "ComposeMail", [
  ...seq(0x05, ["SendMail", "SmartForward", "SmartReply", "SaveInSentItems", "ReplaceMime"]),
  ...seq(0x0b, ["Source", "FolderId", "ItemId", "LongId", "InstanceId", "Mime", "ClientId", "Status", "AccountId"]),
  ...seq(0x15, ["Forwardees", "Forwardee", "ForwardeeName", "ForwardeeEmail"]),
]);

// §2.1.2.1.23 Code Page 22: Email2 (0x14 unassigned)
const Email2 = page(0x16, "Email2", [
  ...seq(0x05, [
    "UmCallerID", "UmUserNotes", "UmAttDuration", "UmAttOrder", "ConversationId", "ConversationIndex",
    "LastVerbExecuted", "LastVerbExecutionTime", "ReceivedAsBcc", "Sender", "CalendarType", "IsLeapMonth",
    "AccountId", "FirstDayOfWeek", "MeetingMessageType",
  ]),
  ...seq(0x15, ["IsDraft", "Bcc", "Send"]),
]);

// §2.1.2.1.24 Code Page 23: Notes
const Notes = page(0x17, "Notes", seq(0x05, ["Subject", "MessageClass", "LastModifiedDate", "Categories", "Category"]));

// §2.1.2.1.25 Code Page 24: RightsManagement
const RightsManagement = page(0x18, "RightsManagement", seq(0x05, [
  "RightsManagementSupport", "RightsManagementTemplates", "RightsManagementTemplate", "RightsManagementLicense",
  "EditAllowed", "ReplyAllowed", "ReplyAllAllowed", "ForwardAllowed", "ModifyRecipientsAllowed", "ExtractAllowed",
  "PrintAllowed", "ExportAllowed", "ProgrammaticAccessAllowed", "Owner", "ContentExpiryDate", "TemplateID",
  "TemplateName", "TemplateDescription", "ContentOwner", "RemoveRightsManagementDistribution",
]));

// §2.1.2.1.26 Code Page 25: Find (16.1; 0x0F, 0x10 and 0x1A–0x1F unassigned)
const Find = page(0x19, "Find", [
  ...seq(0x05, ["Find", "SearchId", "ExecuteSearch", "MailBoxSearchCriterion", "Query", "Status", "FreeText", "Options", "Range", "DeepTraversal"]),
  ...seq(0x11, ["Response", "Result", "Properties", "Preview", "HasAttachments", "Total", "DisplayCc", "DisplayBcc", "GalSearchCriterion"]),
  ...seq(0x20, ["MaxPictures", "MaxSize", "Picture"]),
]);

export const CODE_PAGES: readonly CodePage[] = [
  AirSync, Contacts, Email, AirNotify, Calendar, Move, GetItemEstimate, FolderHierarchy, MeetingResponse, Tasks,
  ResolveRecipients, ValidateCert, Contacts2, Ping, Provision, Search, GAL, AirSyncBase, Settings, DocumentLibrary,
  ItemOperations, ComposeMail, Email2, Notes, RightsManagement, Find,
];

const byNamespace = new Map<string, CodePage>(CODE_PAGES.map((p) => [p.namespace, p]));

export function pageById(id: number): CodePage | undefined {
  return CODE_PAGES[id];
}

export function pageByNamespace(ns: string): CodePage | undefined {
  return byNamespace.get(ns);
}
