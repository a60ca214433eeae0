/**
 * ResolveRecipients (MS-ASCMD §2.2.1.15) against the directory. Per To
 * (§2.2.3.177.12): 1 resolved, 2 ambiguous (several matches, suggestions
 * returned), 4 no match. Certificates, availability and pictures are not
 * kept by Pillarbox; asking for them still resolves the addresses.
 */
import type { CommandHandler } from "../context.ts";
import { directory, matchDirectory } from "../../../../src/groupware/directory.ts";
import { kid, kids, kidText, ns, text } from "../wbxml/tree.ts";

const R = ns("ResolveRecipients");

export const resolveRecipients: CommandHandler = async (c, doc) => {
  const tos = kids(doc!, "ResolveRecipients:To").map((t) => text(t).trim());
  if (!tos.length || tos.length > 100) return { wbxml: R("ResolveRecipients", R("Status", "5")) }; // 5: protocol error
  const max = Number(kidText(kid(doc!, "ResolveRecipients:Options"), "ResolveRecipients:MaxAmbiguousRecipients") ?? "19");
  const dir = await directory(c.store, c.account);
  const responses = tos.map((to) => {
    const exact = dir.filter((e) => e.email === to.toLowerCase());
    const hits = exact.length ? exact : matchDirectory(dir, to);
    const status = hits.length === 0 ? 4 : hits.length === 1 ? 1 : 2;
    const shown = hits.slice(0, Math.max(0, Math.min(max, 100)));
    return R(
      "Response",
      R("To", to),
      R("Status", status),
      R("RecipientCount", shown.length),
      shown.map((e) => R("Recipient", R("Type", "1"), R("DisplayName", e.displayName), R("EmailAddress", e.email))),
    );
  });
  return { wbxml: R("ResolveRecipients", R("Status", "1"), responses) };
};
