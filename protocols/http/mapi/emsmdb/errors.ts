/**
 * ROP ReturnValues the engine answers (MS-OXCDATA §2.4 error codes) and the
 * one exception a handler throws to answer one of them for its ROP.
 */
export const ec = {
  None: 0,
  /** MS-OXCDATA §2.4.1 ecNotSupported: the ROP (or a flag of it) is not offered. */
  NotSupported: 0x80040102,
  /** ecInvalidObject: the handle names an object of the wrong kind for this ROP. */
  InvalidObject: 0x80040108,
  /** ecNotFound: no such folder, message, attachment or property. */
  NotFound: 0x8004010f,
  /** ecNullObject: the InputHandleIndex names no object. */
  NullObject: 0x000004b9,
  /** ecInvalidParam: a field out of range. */
  InvalidParam: 0x80070057,
  /** ecBufferTooSmall: the answer does not fit in what the client can take. */
  BufferTooSmall: 0x0000047d,
  /** ecAccessDenied: another account's mailbox, a virtual folder written to. */
  AccessDenied: 0x80070005,
  /** ecError (MAPI_E_CALL_FAILED): the store failed. */
  Error: 0x80004005,
  /** ecLoginFailure: RopLogon for a mailbox this session may not open. */
  LoginFailure: 0x80040111,
  /** ecTooBig: more than the engine's bounds (table size, body size). */
  TooBig: 0x80040305,
  /** ecQuotaExceeded. */
  QuotaExceeded: 0x000004d9,
  /** ecUnknownUser (MS-OXCRPC §3.1.4.1): Connect for a DN that is not the authenticated account. */
  UnknownUser: 0x000003eb,
  /** ecTooManyObjects-like bound: MS-OXCDATA ecMaxObjsExceeded, more open handles than the logon allows. */
  MaxObjsExceeded: 0x0000047e,
} as const;

export class RopError extends Error {
  constructor(readonly code: number, detail: string) {
    super(detail);
    this.name = "RopError";
  }
}
