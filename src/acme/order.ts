/**
 * One ACME order (RFC 8555 §7.4) with the acme-client library: account,
 * order, one challenge per authorization (HTTP-01 §8.3 or TLS-ALPN-01
 * RFC 8737), finalize with our CSR, download the chain.
 */
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import type * as AcmeClient from "acme-client";
import type { Logger } from "../log.ts";
import { createAlpnCertificate, createCsr } from "./x509-acme.ts";

export type ChallengeType = "http-01" | "tls-alpn-01";

/** One HTTP request to the CA. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Where the manager publishes what the CA will fetch. */
export interface ChallengeResponder {
  setHttp(token: string, keyAuthorization: string | null): void;
  setAlpn(name: string, pair: { cert: string; key: string } | null): void;
}

export interface OrderOptions {
  directoryUrl: string;
  /** Extra trusted roots (PEM) for the CA's own HTTPS; null = the system roots. */
  caPem: string | null;
  accountKey: string;
  accountUrl: string | null;
  email: string | null;
  names: string[];
  certKey: string;
  challenge: ChallengeType;
  responder: ChallengeResponder;
  log: Logger;
  /** Polling of pending objects (the library's backoff; tests make it short). */
  pollMinMs?: number;
}

export class AcmeOrderError extends Error {
  constructor(
    message: string,
    /** Names whose authorization failed (their challenge was refused). */
    public failedNames: string[],
    public accountUrl: string | null,
  ) {
    super(message);
    this.name = "AcmeOrderError";
  }
}

/** A CA error in one line, without the library's stack. */
export function describeAcmeError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, " ").trim().slice(0, 500) || "unknown error";
}

export async function orderCertificate(o: OrderOptions): Promise<{ certPem: string; accountUrl: string }> {
  // Loaded on the first order only: a server without ACME (or between renewals' first use) never carries the client and axios.
  const acme = (await import("acme-client")) as typeof AcmeClient;
  // The library's one axios instance: trust the configured CA root for the directory's HTTPS (a private or test CA).
  acme.axios.defaults.httpsAgent = o.caPem ? new https.Agent({ ca: [...rootCertificates, o.caPem], keepAlive: false }) : undefined;
  // A CA that stops answering must not hold the order forever (axios waits without limit by default).
  acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
  const pollMin = o.pollMinMs ?? 2000;
  const client = new acme.Client({
    directoryUrl: o.directoryUrl,
    accountKey: o.accountKey,
    ...(o.accountUrl ? { accountUrl: o.accountUrl } : {}),
    backoffAttempts: 12,
    backoffMin: pollMin,
    backoffMax: pollMin * 8,
  });
  let accountUrl = o.accountUrl;
  try {
    if (!accountUrl) {
      // RFC 8555 §7.3: a new account (or the existing one for this key).
      await client.createAccount({ termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) });
      accountUrl = client.getAccountUrl();
      o.log.info("acme: account ready", { directory: o.directoryUrl });
    }
  } catch (e) {
    throw new AcmeOrderError(`ACME account at ${o.directoryUrl} failed: ${describeAcmeError(e)}`, [], null);
  }

  let order: AcmeClient.Order;
  try {
    order = await client.createOrder({ identifiers: o.names.map((value) => ({ type: "dns", value })) });
  } catch (e) {
    throw new AcmeOrderError(`ACME order for ${o.names.join(", ")} refused: ${describeAcmeError(e)}`, [], accountUrl);
  }
  const authzs = await client.getAuthorizations(order);
  const failed: { name: string; why: string }[] = [];
  await Promise.all(
    authzs.map(async (authz) => {
      const name = authz.identifier.value;
      if (authz.status === "valid") return; // reused authorization (RFC 8555 §7.1.4)
      const ch = authz.challenges.find((c) => c.type === o.challenge);
      if (!ch) {
        failed.push({ name, why: `the CA offers no ${o.challenge} challenge` });
        return;
      }
      let keyAuthorization = "";
      try {
        keyAuthorization = await client.getChallengeKeyAuthorization(ch);
        if (o.challenge === "http-01") o.responder.setHttp(ch.token, keyAuthorization);
        else o.responder.setAlpn(name, createAlpnCertificate(name, keyAuthorization));
        await client.completeChallenge(ch);
        await client.waitForValidStatus(ch);
      } catch (e) {
        failed.push({ name, why: describeAcmeError(e) });
      } finally {
        if (o.challenge === "http-01") o.responder.setHttp(ch.token, null);
        else o.responder.setAlpn(name, null);
      }
    }),
  );
  if (failed.length) {
    throw new AcmeOrderError(
      `${o.challenge} challenge failed for ${failed.map((f) => `${f.name} (${f.why})`).join("; ")}`,
      failed.map((f) => f.name),
      accountUrl,
    );
  }
  try {
    const csr = createCsr(o.names, o.certKey);
    const finalized = await client.finalizeOrder(order, csr);
    const certPem = await client.getCertificate(finalized);
    return { certPem, accountUrl: accountUrl! };
  } catch (e) {
    throw new AcmeOrderError(`ACME finalize/download failed: ${describeAcmeError(e)}`, [], accountUrl);
  }
}
