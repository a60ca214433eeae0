/**
 * GroupwareError -> the CalDAV/CardDAV precondition a client understands
 * (RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1, RFC 4918 §16, RFC 4331 §6), each
 * with a human description of what was wrong.
 */
import { GroupwareError, type CollectionKind } from "../../../src/groupware/types.ts";
import { davError, textError } from "./types.ts";
import { CALDAV_NS, CARDDAV_NS, DAV_NS } from "./xml.ts";
import { x, type XNode } from "./xml-writer.ts";

/** RFC 3744 §7.1.1 need-privileges body for a refused write (e.g. the read-only directory book). */
export function needPrivileges(href: string, privilege: "write" | "write-content" | "write-properties" | "bind" | "unbind" | "read", description: string): Response {
  return davError(403, DAV_NS, "need-privileges", description, [x(DAV_NS, "resource", x(DAV_NS, "href", href), x(DAV_NS, "privilege", x(DAV_NS, privilege)))]);
}

/**
 * The response for a GroupwareError raised by a write into a collection of
 * `kind` (null for collection-level operations); `hrefOf` turns a conflicting
 * resource name into its href.
 */
export function groupwareErrorResponse(e: GroupwareError, kind: CollectionKind | null, hrefOf: (name: string) => string = (n) => n): Response {
  const card = kind === "contacts";
  const ns = card ? CARDDAV_NS : CALDAV_NS;
  switch (e.code) {
    case "INVALID_DATA":
      return davError(403, ns, card ? "valid-address-data" : "valid-calendar-data", e.message);
    case "INVALID_OBJECT":
      return davError(403, ns, card ? "valid-address-data" : "valid-calendar-object-resource", e.message);
    case "WRONG_COMPONENT":
      return davError(403, CALDAV_NS, "supported-calendar-component", e.message);
    case "UID_CONFLICT": {
      const extra: XNode[] = e.conflict ? [x(DAV_NS, "href", hrefOf(e.conflict))] : [];
      return davError(403, ns, "no-uid-conflict", e.message, extra);
    }
    case "PRECONDITION":
      return textError(412, e.message);
    case "NOT_FOUND":
      return textError(404, e.message);
    case "EXISTS":
      return textError(405, e.message, { allow: "OPTIONS, PROPFIND, PROPPATCH, DELETE, REPORT" });
    case "FORBIDDEN":
      return davError(403, DAV_NS, "need-privileges", e.message);
    case "TOO_LARGE":
      return davError(403, ns, "max-resource-size", e.message);
    case "LIMIT": {
      // RFC 4791 §5.3.2.1 names two of these limits; the rest are a resource the server refuses.
      if (kind && kind !== "contacts" && /attendee/i.test(e.message)) return davError(403, CALDAV_NS, "max-attendees-per-instance", e.message);
      if (kind && kind !== "contacts" && /instance|recurr/i.test(e.message)) return davError(403, CALDAV_NS, "max-instances", e.message);
      if (kind === null) return davError(507, DAV_NS, "quota-not-exceeded", e.message);
      return davError(403, ns, card ? "valid-address-data" : "valid-calendar-object-resource", e.message);
    }
    case "QUOTA":
      return davError(507, DAV_NS, "quota-not-exceeded", e.message);
    case "TOKEN_TOO_OLD":
      return davError(403, DAV_NS, "valid-sync-token", e.message);
    default:
      return textError(500, "the server could not complete the request");
  }
}
