/**
 * Property ROPs (MS-OXCROPS §2.2.8, MS-OXCPRPT §3.2.5): RopGetPropertiesSpecific,
 * RopGetPropertiesAll, RopGetPropertiesList, RopSetProperties and
 * RopGetPropertyIdsFromNames, on logons, folders, messages and attachments.
 */
import { Reader } from "../wire/reader.ts";
import type { Writer } from "../wire/writer.ts";
import { readTaggedValue } from "../wire/propvalue.ts";
import { readPropertyName } from "../wire/ids.ts";
import { RopError, ec } from "./errors.ts";
import { input, registerRop, type Exec } from "./engine.ts";
import type { MapiObject } from "./objects.ts";
import { folderProps, set } from "./props.ts";
import { withStatus } from "./tables.ts";
import { PT, tagId, tagType, valueSize, writeRow, writeValue, type PropMap, type Value } from "./values.ts";

const MAX_TAGS = 1024;
/** Values larger than this are answered as ecNotEnoughMemory when the whole row does not fit: the client reads them with RopOpenStream (MS-OXCPRPT §3.2.5.1). */
const STREAM_THRESHOLD = 0x1000;
/** Named properties one session may map (ids 0x8000..0xFFFE, MS-OXPROPS §1.3.2). */
const MAX_NAMED = 0x7ffe;

/** The properties of an object the property ROPs read. */
export async function propsOf(x: Exec, o: MapiObject): Promise<PropMap> {
  switch (o.kind) {
    case "folder":
      return folderProps(x.s.accountId, await withStatus(x, o.view));
    case "message":
    case "attachment":
      return o.props;
    case "logon": {
      // MS-OXCSTOR §2.2.2.1 store object properties.
      const m: PropMap = new Map();
      const acct = await x.c.store.getAccountById(x.s.accountId);
      const name = acct && typeof acct.settings.displayName === "string" && acct.settings.displayName ? acct.settings.displayName : x.s.email;
      set(m, "DisplayName", `Mailbox - ${name}`);
      set(m, "ObjectType", 1); // MAPI_STORE
      return m;
    }
    default:
      throw new RopError(ec.InvalidObject, "no properties on this object");
  }
}

// RopGetPropertiesSpecific §2.2.8.3: response RowData, a PropertyRow of the asked tags.
registerRop(0x07, (r, ropId) => {
  const inIndex = r.u8();
  const sizeLimit = r.u16();
  r.u16(); // WantUnicode: strings are answered in the type asked (values.ts lookup)
  const n = r.count(r.u16(), MAX_TAGS, 4, "property tags");
  const tags: number[] = [];
  for (let i = 0; i < n; i++) tags.push(r.u32());
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const props = await propsOf(x, input(x, inIndex));
      w.u8(ropId).u8(inIndex).u32(0);
      const start = w.pos;
      writeRow(w, tags, props, sizeLimit);
      if (w.pos > x.room) {
        w.pos = start;
        writeRow(w, tags, props, STREAM_THRESHOLD);
      }
    },
  };
});

// RopGetPropertiesAll §2.2.8.4: response PropertyValueCount, TaggedPropertyValues (large ones as PtypErrorCode ecNotEnoughMemory).
registerRop(0x08, (r, ropId) => {
  const inIndex = r.u8();
  const sizeLimit = r.u16();
  r.u16(); // WantUnicode
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const props = await propsOf(x, input(x, inIndex));
      const limit = sizeLimit || STREAM_THRESHOLD;
      w.u8(ropId).u8(inIndex).u32(0).u16(props.size);
      for (const [id, p] of props) {
        if (valueSize(p) > limit) w.u32(((id << 16) | PT.Error) >>> 0).u32(0x8007000e);
        else {
          w.u32(((id << 16) | p.type) >>> 0);
          writeValue(w, p.type, p.value);
        }
      }
    },
  };
});

// RopGetPropertiesList §2.2.8.5: the tags the object has.
registerRop(0x09, (r, ropId) => {
  const inIndex = r.u8();
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const props = await propsOf(x, input(x, inIndex));
      w.u8(ropId).u8(inIndex).u32(0).u16(props.size);
      for (const [id, p] of props) w.u32(((id << 16) | p.type) >>> 0);
    },
  };
});

const SCALAR_TYPES = new Set<number>([PT.I16, PT.I32, PT.F64, PT.Bool, PT.I64, PT.String8, PT.Unicode, PT.Time, PT.Binary]);

// RopSetProperties §2.2.8.6: on a message being composed (or an attachment); others answer a problem per value.
registerRop(0x0a, (r, ropId) => {
  const inIndex = r.u8();
  const size = r.u16();
  const body = new Reader(r.bytes(size, "PropertyValues"));
  const n = body.count(body.u16(), MAX_TAGS, 4, "property values");
  const values: { tag: number; value: unknown }[] = [];
  for (let i = 0; i < n; i++) values.push(readTaggedValue(body));
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const o = input(x, inIndex);
      const problems: { index: number; tag: number; code: number }[] = [];
      const writable = (o.kind === "message" && o.item === null) || o.kind === "attachment";
      for (const [i, v] of values.entries()) {
        if (!writable) problems.push({ index: i, tag: v.tag, code: ec.AccessDenied });
        else if (!SCALAR_TYPES.has(tagType(v.tag))) problems.push({ index: i, tag: v.tag, code: ec.NotSupported });
        else {
          const props = o.kind === "message" || o.kind === "attachment" ? o.props : null;
          props?.set(tagId(v.tag), { type: tagType(v.tag), value: v.value as Value });
          if (o.kind === "message") o.dirty = true;
        }
      }
      if (o.kind !== "message" && o.kind !== "attachment" && o.kind !== "folder" && o.kind !== "logon") throw new RopError(ec.InvalidObject, "no properties on this object");
      w.u8(ropId).u8(inIndex).u32(0).u16(problems.length);
      for (const p of problems) w.u16(p.index).u32(p.tag).u32(p.code);
    },
  };
});

// RopGetPropertyIdsFromNames §2.2.8.1: ids 0x8000 up, per session (Flags 0x02 Create makes missing ones).
registerRop(0x56, (r, ropId) => {
  const inIndex = r.u8();
  const flags = r.u8();
  const n = r.count(r.u16(), MAX_TAGS, 17, "property names");
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = readPropertyName(r);
    keys.push(JSON.stringify(p));
  }
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      input(x, inIndex);
      const ids: number[] = [];
      let missing = false;
      for (const k of keys) {
        let id = x.s.named.get(k);
        if (id === undefined && flags & 0x02) {
          if (x.s.named.size >= MAX_NAMED) throw new RopError(ec.TooBig, "too many named properties");
          id = 0x8000 + x.s.named.size;
          x.s.named.set(k, id);
        }
        if (id === undefined) missing = true;
        ids.push(id ?? 0);
      }
      // MS-OXCPRPT §3.2.5.8: ecWarnWithErrors (0x00040380) when some names have no id.
      w.u8(ropId).u8(inIndex).u32(missing ? 0x00040380 : 0).u16(ids.length);
      for (const id of ids) w.u16(id);
    },
  };
});

