/** The MAPI wire codecs (sans-IO): one import for the engines. */
export * from "./errors.ts";
export * from "./reader.ts";
export * from "./writer.ts";
export * from "./proptypes.ts";
export * from "./propvalue.ts";
export * from "./restriction.ts";
export * from "./ids.ts";
export * from "./rop-ids.ts";
export * from "./rops-types.ts";
export * from "./rops-parse.ts";
export * from "./rops-write.ts";
export * from "./rop-buffer.ts";
export * from "./lz77.ts";
export * from "./emsmdb-bodies.ts";
export * from "./rops-encode.ts";
