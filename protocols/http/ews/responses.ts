/**
 * Response messages (Messages.xsd ResponseMessageType): every operation
 * answers `<m:XResponse><m:ResponseMessages>` with one message per item or
 * folder it was asked about, each Success or Error with its ResponseCode.
 * A failure of one item never fails the others (MS-OXWSCDATA §2.2.4.43).
 */
import { EwsError } from "./context.ts";
import { m, ma, mv } from "./xml.ts";

/** `<m:{tag} ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>...content</m:{tag}>` */
export function success(tag: string, ...content: (string | null | undefined | false)[]): string {
  return ma(tag, { ResponseClass: "Success" }, "<m:ResponseCode>NoError</m:ResponseCode>", ...content);
}

/** A Warning message (e.g. ErrorBatchProcessingStopped is an Error; Warning is rare: partial success). */
export function warning(tag: string, code: string, text: string, ...content: (string | null | undefined | false)[]): string {
  return ma(tag, { ResponseClass: "Warning" }, mv("MessageText", text), mv("ResponseCode", code), mv("DescriptiveLinkKey", 0), ...content);
}

/** `<m:{tag} ResponseClass="Error">` with MessageText, ResponseCode, DescriptiveLinkKey, then optional content (MessageXml...). */
export function failure(tag: string, err: EwsError, ...content: (string | null | undefined | false)[]): string {
  return ma(tag, { ResponseClass: "Error" }, mv("MessageText", err.message), mv("ResponseCode", err.code), mv("DescriptiveLinkKey", 0), ...content);
}

/** The operation's response wrapper: `<m:{op}Response><m:ResponseMessages>messages</m:ResponseMessages></m:{op}Response>`. */
export function responseMessages(op: string, messages: string[]): string {
  return m(`${op}Response`, m("ResponseMessages", messages.join("")));
}

/**
 * Runs `fn` for each request element and collects one message each: an
 * EwsError becomes that element's Error message; anything else is logged by
 * the caller's `onUnexpected` and answered ErrorInternalServerError, so one
 * bad item never costs the client the rest of the batch.
 */
export async function perEach<T>(
  items: readonly T[],
  tag: string,
  fn: (item: T, index: number) => Promise<string>,
  onUnexpected: (err: unknown) => void,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    out.push(await messageFor(tag, () => fn(items[i]!, i), onUnexpected));
  }
  return out;
}

/** One message: `fn`'s result, or the Error message for what it threw. */
export async function messageFor(tag: string, fn: () => Promise<string>, onUnexpected: (err: unknown) => void): Promise<string> {
  try {
    return await fn();
  } catch (e) {
    return failure(tag, asEwsError(e, onUnexpected));
  }
}

/** Maps a thrown value to an EwsError (store quota/full errors keep their meaning; other surprises are logged). */
export function asEwsError(e: unknown, onUnexpected: (err: unknown) => void): EwsError {
  if (e instanceof EwsError) return e;
  const name = e instanceof Error ? e.name : "";
  if (name === "QuotaExceededError") return new EwsError("ErrorQuotaExceeded", "The mailbox is over its quota.");
  if (name === "StorageFullError") return new EwsError("ErrorInsufficientResources", "The server's storage is full; try again later.");
  if (name === "StoreError") {
    const se = e as Error & { code: string };
    const code: Record<string, string> = {
      NONEXISTENT: "ErrorItemNotFound",
      ALREADYEXISTS: "ErrorFolderExists",
      CANNOT: "ErrorCannotDeleteObject",
      INUSE: "ErrorCannotDeleteObject",
      LIMIT: "ErrorExceededFolderLimit",
      INVALID: "ErrorInvalidRequest",
      WRONG_CLASS: "ErrorCannotCreateContactInNonContactFolder",
      MODIFIED: "ErrorIrresolvableConflict",
    };
    return new EwsError(code[se.code] ?? "ErrorInvalidRequest", se.message);
  }
  onUnexpected(e);
  return new EwsError("ErrorInternalServerError", "The server could not complete this request; your data is unchanged. Try again.");
}
