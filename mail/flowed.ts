/**
 * format=flowed text (RFC 3676): lines ending in a space are soft breaks
 * that a reader joins into one paragraph. Decoding only; Pillarbox writes
 * fixed text.
 */

/** Quote depth of a line: the number of leading ">" (RFC 3676 §4.5). */
function quoteDepth(line: string): number {
  let n = 0;
  while (n < line.length && line.charCodeAt(n) === 62) n++;
  return n;
}

/**
 * Joins flowed lines (RFC 3676 §4.1-§4.5): a line whose text ends in a space
 * continues on the next line of the same quote depth; a leading space is
 * stuffing and removed (§4.4); the signature separator "-- " is never joined
 * (§4.3); with DelSp=yes the trailing space of a flowed line is removed as
 * well (§4.2). Line ends in the output are "\n". Linear in the input.
 */
export function decodeFlowed(text: string, delSp = false): string {
  const lines = text.split(/\r\n|\n|\r/);
  const out: string[] = [];
  let cur: string | null = null; // the paragraph being joined, with its quote prefix
  let curDepth = 0;
  for (const raw of lines) {
    const depth = quoteDepth(raw);
    let body = raw.slice(depth);
    if (body.startsWith(" ")) body = body.slice(1); // §4.4 space-stuffing (after the quote marks, §4.5)
    const prefix = ">".repeat(depth) + (depth ? " " : "");
    if (cur !== null && depth !== curDepth) {
      out.push(cur); // §4.5: a quote depth change ends the paragraph, even after a soft break
      cur = null;
    }
    const flowed = body.endsWith(" ") && body !== "-- ";
    const piece = flowed && delSp ? body.slice(0, -1) : body;
    cur = cur === null ? prefix + piece : cur + piece;
    curDepth = depth;
    if (!flowed) {
      out.push(cur);
      cur = null;
    }
  }
  if (cur !== null) out.push(cur);
  return out.join("\n");
}
