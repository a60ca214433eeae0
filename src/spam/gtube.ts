/**
 * GTUBE, the Generic Test for Unsolicited Bulk Email (SpamAssassin's test
 * string, rule GTUBE in its 20_body_tests.cf): a message whose body contains
 * it is spam whatever else it says, so an administrator can check the whole
 * path (scoring, X-Spam-* fields, Junk filing, rejection) with one message.
 * SpamAssassin gives it 1000 points; so do we.
 */
import type { SpamSymbol } from "./types.ts";
import type { ScanView } from "./scan.ts";

export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
export const GTUBE_SCORE = 1000;

/** Looks in the decoded text of the message (a base64 or quoted-printable body counts too). */
export function gtubeRule(view: ScanView): SpamSymbol[] {
  if (view.text.includes(GTUBE) || view.html.includes(GTUBE)) return [{ name: "GTUBE", score: GTUBE_SCORE, detail: "the GTUBE test string" }];
  return [];
}
