/**
 * GetItemEstimate (MS-ASCMD §2.2.1.9): how many changes the next Sync of
 * each collection would bring. Status per collection (§2.2.3.177.7):
 * 2 unknown collection, 3 sync state not primed (SyncKey 0), 4 bad SyncKey.
 */
import type { CommandHandler } from "../context.ts";
import { folderByServerId } from "../folders.ts";
import { syncClassByName, syncClassForFolder } from "../sync/classes.ts";
import { estimate, parseOptions, validOptions } from "../sync/engine.ts";
import { kid, kids, kidText, ns } from "../wbxml/tree.ts";

const G = ns("GetItemEstimate");

export const getItemEstimate: CommandHandler = async (c, doc) => {
  const colls = kids(kid(doc!, "GetItemEstimate:Collections"), "GetItemEstimate:Collection");
  if (!colls.length) return { wbxml: G("GetItemEstimate", G("Status", "2")) };
  const responses = [];
  for (const e of colls) {
    const collectionId = kidText(e, "GetItemEstimate:CollectionId") ?? "";
    // 14.0+: airsync:SyncKey and airsync:Options; 12.1: these plus GetItemEstimate:Class and airsync:FilterType.
    const syncKey = kidText(e, "AirSync:SyncKey") ?? "";
    const folder = await folderByServerId(c.store, c.account.id, collectionId);
    const cls = folder ? (kidText(e, "GetItemEstimate:Class") ? syncClassByName(kidText(e, "GetItemEstimate:Class")!) : syncClassForFolder(folder)) : undefined;
    if (!folder || !cls || cls.itemClass !== folder.itemClass) {
      responses.push(G("Response", G("Status", "2"), G("Collection", G("CollectionId", collectionId))));
      continue;
    }
    let options = parseOptions(kids(e, "AirSync:Options"), cls.className);
    const legacyFilter = kidText(e, "AirSync:FilterType");
    if (!options && legacyFilter !== undefined) options = parseOptions([{ ns: "AirSync", name: "Options", children: [{ ns: "AirSync", name: "FilterType", children: [legacyFilter] }] }], cls.className);
    if (options && !validOptions(options)) {
      responses.push(G("Response", G("Status", "2"), G("Collection", G("CollectionId", collectionId))));
      continue;
    }
    const r = await estimate(c, cls, folder, collectionId, syncKey, options);
    if ("status" in r) {
      responses.push(G("Response", G("Status", r.status === "notPrimed" ? "3" : "4"), G("Collection", G("CollectionId", collectionId))));
      continue;
    }
    responses.push(G("Response", G("Status", "1"), G("Collection", G("CollectionId", collectionId), G("Estimate", r.count))));
  }
  return { wbxml: G("GetItemEstimate", responses) };
};
