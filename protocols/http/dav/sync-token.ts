/**
 * Sync tokens (RFC 6578 §3.2: an absolute URI whose form the server
 * chooses). Ours name the collection and its modseq, so a token of one
 * collection is never taken for another's:
 *   urn:pillarbox:sync:<folder id>:<modseq>      a store collection
 *   urn:pillarbox:sync:directory:<version hash>  the directory book
 */
import type { Collection } from "../../../src/groupware/types.ts";

const PREFIX = "urn:pillarbox:sync:";

export function collectionSyncToken(c: Collection): string {
  return `${PREFIX}${c.id}:${c.modseq}`;
}

export function directorySyncToken(version: string): string {
  return `${PREFIX}directory:${version}`;
}

/** The modseq a token of collection `c` carries; null when it is not one of this collection's tokens. */
export function parseCollectionToken(token: string, c: Collection): number | null {
  const m = /^urn:pillarbox:sync:(\d{1,15}):(\d{1,15})$/.exec(token.trim());
  if (!m || Number(m[1]) !== c.id) return null;
  return Number(m[2]);
}

export function parseDirectoryToken(token: string): string | null {
  const m = /^urn:pillarbox:sync:directory:([0-9a-f]{1,64})$/.exec(token.trim());
  return m ? m[1]! : null;
}
