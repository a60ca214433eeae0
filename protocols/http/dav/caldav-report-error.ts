/**
 * What the CalDAV/CardDAV REPORT handlers (calendar-query, calendar-multiget,
 * free-busy-query, addressbook-query, addressbook-multiget) throw for a
 * request they refuse: an HTTP status and the precondition element of the
 * error body (RFC 4918 §16, RFC 4791 §1.3, RFC 6352 §6.3.2), with a message a
 * person can act on. The REPORT dispatcher turns it into a DAV error body.
 */
export const NS_DAV = "DAV:";
export const NS_CALDAV = "urn:ietf:params:xml:ns:caldav";
export const NS_CARDDAV = "urn:ietf:params:xml:ns:carddav";

export class ReportError extends Error {
  constructor(
    public readonly status: number,
    /** Namespace of the precondition/postcondition element (NS_DAV, NS_CALDAV, NS_CARDDAV). */
    public readonly ns: string,
    /** Its local name, e.g. "supported-collation", "valid-filter". */
    public readonly element: string,
    message: string,
  ) {
    super(message);
    this.name = "ReportError";
  }
}

/** A request element is malformed in a way no precondition names: 400 with a DAV error body. */
export function badRequest(message: string, ns = NS_CALDAV, element = "valid-filter"): ReportError {
  return new ReportError(400, ns, element, message);
}
