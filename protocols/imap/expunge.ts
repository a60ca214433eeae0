/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1). The EXPUNGE
 * responses come from the view sync at the end of the command, numbered
 * against the client's view (view.ts).
 */
import { argString } from "./parser.ts";
import { parseSeqSet, resolveUid } from "./seqset.ts";
import { F_DELETED } from "./state.ts";
import { bad, no, ok, registerCommands } from "./session.ts";

registerCommands({
  EXPUNGE: {
    state: "selected",
    async fn(s, cmd) {
      if (cmd.args.length) return bad("EXPUNGE takes no arguments.");
      const sel = s.sel!;
      if (sel.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
      await s.store.expunge(sel.folderId);
      return ok("Expunge completed.");
    },
  },
  "UID EXPUNGE": {
    state: "selected",
    async fn(s, cmd) {
      const sel = s.sel!;
      const set = cmd.args.length === 1 ? parseSeqSet(argString(cmd.args[0]) ?? "") : null;
      if (!set || set.saved) return bad("Invalid UID set.");
      if (sel.readOnly) return no("Mailbox is read-only.", "READ-ONLY");
      // only messages of the set that have \Deleted (RFC 4315 §2.1)
      const uids: number[] = [];
      for (const i of resolveUid(set, sel.uids, sel.count)) {
        const m = sel.msgAt(i);
        if (m && m.flags.bits & F_DELETED) uids.push(m.uid);
      }
      if (uids.length) await s.store.expunge(sel.folderId, uids);
      return ok("Expunge completed.");
    },
  },
});
