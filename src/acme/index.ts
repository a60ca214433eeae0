/** ACME (RFC 8555) certificates: see manager.ts. */
export { createAcmeManager, challengeTypesFor, type AcmeManager } from "./manager.ts";
export { acmePaths } from "./files.ts";
export { certificateNames } from "./names.ts";
export { renewalDueAt, backoffDelay, nextAttemptAt } from "./schedule.ts";
export { caaIssuerFor, ensureCertKey, tlsaSpkiSha256 } from "./dns.ts";
