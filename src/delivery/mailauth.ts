/**
 * mailauth (DKIM signing, SPF/DKIM/DMARC/ARC verification) loaded on first
 * use: with its dependencies it adds ~30 MB to the resident size of the
 * compiled binary, which an idle server that has not yet sent or received
 * mail should not pay.
 */
type Mailauth = typeof import("mailauth");
let loading: Promise<Mailauth> | null = null;

export function loadMailauth(): Promise<Mailauth> {
  loading ??= import("mailauth");
  return loading;
}
