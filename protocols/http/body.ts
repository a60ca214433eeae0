/**
 * Bounded request bodies (DAV and ActiveSync): a declared Content-Length over the limit is
 * refused before anything is read, a stream that grows past it is cut off
 * (the bridge then closes the connection instead of draining the rest).
 */
import { concatChunks } from "../../src/bytes.ts";

export class BodyTooLarge extends Error {
  constructor(public readonly limit: number) {
    super(`the request body is larger than ${limit} bytes`);
    this.name = "BodyTooLarge";
  }
}

export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge(limit);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  return concatChunks(chunks);
}
