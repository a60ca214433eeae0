/**
 * RopLogon (MS-OXCROPS §2.2.3.1, MS-OXCSTOR §3.2.5.1) for the account's own
 * private mailbox, RopGetReceiveFolder (§2.2.3.2) and RopRelease (§2.2.15.3).
 */
import { legacyDn, mailboxGuidBytes } from "../identity.ts";
import { RopError, ec } from "./errors.ts";
import { input, registerRop, type Exec } from "./engine.ts";
import { FolderTree } from "./folders.ts";
import { accountGuid, idValue } from "./ids.ts";
import type { Writer } from "../wire/writer.ts";

/** MS-OXCROPS §2.2.3.1.1 LogonFlags: Private 0x01. */
const LOGON_PRIVATE = 0x01;

/** MS-OXCROPS §2.2.3.1.2 LogonTime: Seconds, Minutes, Hour, DayOfWeek, Day, Month, Year (u16), UTC. */
function writeLogonTime(w: Writer, ms: number): void {
  const d = new Date(ms);
  w.u8(d.getUTCSeconds()).u8(d.getUTCMinutes()).u8(d.getUTCHours()).u8(d.getUTCDay()).u8(d.getUTCDate()).u8(d.getUTCMonth() + 1).u16(d.getUTCFullYear());
}

registerRop(0xfe, (r, ropId) => {
  const outIndex = r.u8();
  const logonFlags = r.u8();
  r.u32(); // OpenFlags
  r.u32(); // StoreState
  const essdn = r.bytes(r.u16(), "Essdn");
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      if (!(logonFlags & LOGON_PRIVATE)) throw new RopError(ec.NotSupported, "public folder logons are not offered");
      // MS-OXCSTOR §3.2.5.1.1: the Essdn names the mailbox; only the authenticated account's own opens.
      const end = essdn.indexOf(0);
      const dn = new TextDecoder("latin1").decode(end < 0 ? essdn : essdn.subarray(0, end));
      if (dn !== "" && dn.toLowerCase() !== legacyDn({ id: x.s.accountId, email: x.s.email }).toLowerCase()) {
        throw new RopError(ec.LoginFailure, "logon to another mailbox");
      }
      if (outIndex >= x.handles.length) throw new RopError(ec.InvalidParam, "OutputHandleIndex outside the handle table");
      if (!x.s.logons.has(x.logonId)) x.s.logons.set(x.logonId, 0);
      const h = addLogon(x);
      x.handles[outIndex] = h;
      const tree = await FolderTree.load(x.c.store, x.s.accountId);
      w.u8(ropId).u8(outIndex).u32(0).u8(logonFlags);
      for (const counter of tree.logonFolders()) w.u64(idValue(counter));
      w.u8(0x07); // ResponseFlags: Reserved | OwnerRight | SendAsRight
      w.bytes(mailboxGuidBytes({ id: x.s.accountId }));
      w.u16(1); // ReplId: our one replica (ids.ts)
      w.bytes(accountGuid(x.s.accountId, "replica"));
      writeLogonTime(w, x.c.now());
      w.u64(0n); // GwartTime: no address book changes recorded
      w.u32(0); // StoreState
    },
  };
});

function addLogon(x: Exec): number {
  const n = x.s.logons.get(x.logonId) ?? 0;
  x.s.logons.set(x.logonId, n + 1);
  const h = ((x.logonId << 24) | n) >>> 0;
  x.s.objects.set(h, { kind: "logon", logonId: x.logonId });
  return h;
}

// RopGetReceiveFolder: every message class is received in the Inbox (MS-OXCSTOR §3.2.5.2).
registerRop(0x27, (r, ropId) => {
  const inIndex = r.u8();
  r.cstr8(); // MessageClass
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const o = input(x, inIndex);
      if (o.kind !== "logon") throw new RopError(ec.InvalidObject, "not a logon");
      const tree = await FolderTree.load(x.c.store, x.s.accountId);
      const inbox = tree.logonFolders()[4]!;
      w.u8(ropId).u8(inIndex).u32(0).u64(idValue(inbox)).cstr8("");
    },
  };
});

// RopRelease (§2.2.15.3): no response.
registerRop(0x01, (r) => {
  const inIndex = r.u8();
  return {
    respIndex: inIndex,
    async run(x: Exec) {
      const h = x.handles[inIndex];
      if (h !== undefined) x.s.objects.delete(h);
    },
  };
});
