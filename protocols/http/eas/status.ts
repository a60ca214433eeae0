/**
 * Status values (MS-ASCMD §2.2.2 common codes and §2.2.3.177.x per command;
 * MS-ASPROV §2.2.2.54 for Provision).
 */
export const Common = {
  InvalidContent: 101,
  InvalidWBXML: 102,
  InvalidXML: 103,
  InvalidDateTime: 104,
  InvalidCombinationOfIDs: 105,
  InvalidIDs: 106,
  InvalidMIME: 107,
  DeviceIdMissingOrInvalid: 108,
  DeviceTypeMissingOrInvalid: 109,
  ServerError: 110,
  ServerErrorRetryLater: 111,
  MailboxQuotaExceeded: 113,
  SendQuotaExceeded: 115,
  MessageRecipientUnresolved: 116,
  MessageHasNoRecipient: 119,
  MailSubmissionFailed: 120,
  MessageReplyFailed: 121,
  AttachmentIsTooLarge: 122,
  DeviceIsBlockedForThisUser: 129,
  AccessDenied: 130,
  SyncStateNotFound: 132,
  CommandNotSupported: 137,
  VersionNotSupported: 138,
  RemoteWipeRequested: 140,
  DeviceNotProvisioned: 142,
  PolicyRefresh: 143,
  InvalidPolicyKey: 144,
  ItemNotFound: 150,
  InvalidRecipients: 183,
} as const;

/** MS-ASCMD §2.2.3.177.17 Status (Sync). */
export const SyncStatus = {
  Success: 1,
  InvalidSyncKey: 3,
  ProtocolError: 4,
  ServerError: 5,
  ClientServerConversion: 6,
  Conflict: 7,
  ObjectNotFound: 8,
  CannotComplete: 9,
  FolderHierarchyChanged: 12,
  EmptyRequestNoCache: 13,
  WaitOutOfRange: 14,
  TooManyCollections: 15,
  Retry: 16,
} as const;

/** MS-ASCMD §2.2.3.177.5 Status (FolderSync), §2.2.3.177.3/4/6 (FolderCreate/Delete/Update). */
export const FolderStatus = {
  Success: 1,
  AlreadyExists: 2,
  SpecialFolder: 3,
  NotFound: 4,
  ParentNotFound: 5,
  ServerError: 6,
  SyncKeyInvalid: 9,
  BadRequest: 10,
  UnknownError: 11,
} as const;

/** MS-ASCMD §2.2.3.177.11 Status (Ping). */
export const PingStatus = {
  Expired: 1,
  Changes: 2,
  MissingParameters: 3,
  ProtocolError: 4,
  HeartbeatOutOfRange: 5,
  TooManyFolders: 6,
  FolderHierarchyChanged: 7,
  ServerError: 8,
} as const;
