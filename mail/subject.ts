/** RFC 5256 §2.1 base subject, used by SORT (SUBJECT), THREAD=ORDEREDSUBJECT and conversation views. */

const TRAILER = /(?:\(fwd\)| )$/i; // subj-trailer = "(fwd)" / WSP
// subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const LEADER = /^(?:(?:\[[^[\]]*\] *)*(?:re|fwd?) *(?:\[[^[\]]*\] *)?:| )/i;
const BLOB = /^\[[^[\]]*\] */; // subj-blob = "[" *BLOBCHAR "]" *WSP

/** `subject` must already be decoded (RFC 2047) text. */
export function baseSubject(subject: string): string {
  // (1) tabs and continuations to space, runs of spaces to one
  let s = subject.replace(/[\t\r\n]+/g, " ").replace(/ {2,}/g, " ");
  for (let guard = 0; guard < 1000; guard++) {
    // (2) trailing "(fwd)" and whitespace
    while (TRAILER.test(s)) s = s.replace(TRAILER, "");
    // (3)-(5) leaders and blobs until nothing matches
    for (let changed = true; changed; ) {
      changed = false;
      while (LEADER.test(s)) {
        const n = s.replace(LEADER, "");
        if (n === s) break;
        s = n;
        changed = true;
      }
      const m = BLOB.exec(s);
      if (m && s.length > m[0].length) {
        s = s.slice(m[0].length);
        changed = true;
      }
    }
    // (6) "[fwd: ... ]" wrapper: unwrap and repeat from (2)
    if (/^\[fwd:/i.test(s) && s.endsWith("]")) {
      s = s.slice(5, -1);
      continue;
    }
    break;
  }
  return s;
}

/**
 * The subject of a reply ("Re: ...") or a forward ("Fwd: ..."), unless it
 * already starts with that prefix (RFC 5322 §3.6.5: "Re: " marks a reply;
 * "Fw:"/"Fwd:" are the common forward markers). Not stacked: "Re: Re: x"
 * is never made from "Re: x".
 */
export function prefixSubject(prefix: "Re" | "Fwd", subject: string): string {
  const re = prefix === "Re" ? /^\s*re\s*:/i : /^\s*(fwd?|fw)\s*:/i;
  return re.test(subject) ? subject : `${prefix}: ${subject}`;
}
