/**
 * Stream ROPs (MS-OXCROPS §2.2.9, MS-OXCPRPT §3.2.5.13): RopOpenStream,
 * RopReadStream, RopGetStreamSize, read-only, for properties too large for a
 * row (PidTagBody, PidTagHtml, PidTagAttachDataBinary).
 */
import type { Writer } from "../wire/writer.ts";
import { RopError, ec } from "./errors.ts";
import { input, output, registerRop, type Exec } from "./engine.ts";
import { propsOf } from "./rops-props.ts";
import { PT, lookup, tagType } from "./values.ts";

/** Largest stream the engine holds (a body larger than this answers ecTooBig). */
const MAX_STREAM = 64 * 1024 * 1024;

function stream(x: Exec, idx: number) {
  const o = input(x, idx);
  if (o.kind !== "stream") throw new RopError(ec.InvalidObject, "not a stream");
  return o;
}

// RopOpenStream §2.2.9.1: OpenModeFlags 0 read-only (others: ecNotSupported, nothing is written through streams yet).
registerRop(0x2b, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  const tag = r.u32();
  const mode = r.u8();
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      if (mode !== 0) throw new RopError(ec.NotSupported, "streams are read-only");
      const props = await propsOf(x, input(x, inIndex));
      const v = lookup(props, tag);
      if (!v) throw new RopError(ec.NotFound, "no such property");
      let data: Uint8Array;
      if (typeof v.value === "string") {
        // PtypString streams are UTF-16LE without the terminator; PtypString8 as 8-bit.
        if (tagType(tag) === PT.String8) data = new TextEncoder().encode(v.value);
        else {
          data = new Uint8Array(v.value.length * 2);
          const dv = new DataView(data.buffer);
          for (let i = 0; i < v.value.length; i++) dv.setUint16(i * 2, v.value.charCodeAt(i), true);
        }
      } else if (v.value instanceof Uint8Array) data = v.value;
      else throw new RopError(ec.NotSupported, "only string and binary properties open as streams");
      if (data.length > MAX_STREAM) throw new RopError(ec.TooBig, "stream too large");
      output(x, outIndex, { kind: "stream", data, pos: 0 });
      w.u8(ropId).u8(outIndex).u32(0).u32(data.length);
    },
  };
});

// RopReadStream §2.2.9.2: ByteCount, or 0xBAAD followed by MaximumByteCount; answered up to the room left.
registerRop(0x2c, (r, ropId) => {
  const inIndex = r.u8();
  let count = r.u16();
  if (count === 0xbaad) count = r.u32();
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const s = stream(x, inIndex);
      const n = Math.max(0, Math.min(count, s.data.length - s.pos, x.room - 8, 0xfff0));
      const chunk = s.data.subarray(s.pos, s.pos + n);
      s.pos += n;
      w.u8(ropId).u8(inIndex).u32(0).u16(chunk.length).bytes(chunk);
    },
  };
});

// RopGetStreamSize §2.2.9.5.
registerRop(0x5e, (r, ropId) => {
  const inIndex = r.u8();
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      w.u8(ropId).u8(inIndex).u32(0).u32(stream(x, inIndex).data.length);
    },
  };
});
