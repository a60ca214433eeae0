/**
 * The server's certificate service with ACME switchable at run time: the
 * ACME manager while `acme.enabled`, the file/self-signed service otherwise.
 * Turning ACME on by SIGHUP (quickstart --acme on a running server) starts the
 * manager at once; turning it off stops renewals, and the last certificate is
 * served until a restart or until [tls] files are set.
 */
import type { CertificateService } from "../ops/types.ts";
import { staticCertificates } from "../certificates.ts";
import { createAcmeManager, type AcmeManager, type AcmeManagerOptions } from "./manager.ts";

export interface CertificateSwitch extends CertificateService {
  /** Starts renewals (once the listeners are bound). */
  start(): void;
  stop(): void;
  /** Follows `config.acme.enabled` after a configuration reload. */
  reconfigure(): void;
}

export function createCertificateSwitch(o: AcmeManagerOptions): CertificateSwitch {
  let acme: AcmeManager | null = o.config.acme.enabled ? createAcmeManager(o) : null;
  const fallback = staticCertificates(o.tls);
  let started = false;
  return {
    status: () => (acme ?? fallback).status(),
    renewNow: () => (acme ?? fallback).renewNow(),
    httpChallenge: (token: string) => acme?.httpChallenge?.(token) ?? null,
    start() {
      started = true;
      acme?.start();
    },
    stop() {
      started = false;
      acme?.stop();
    },
    reconfigure() {
      if (o.config.acme.enabled && !acme) {
        acme = createAcmeManager(o);
        if (started) acme.start();
        o.log.info("acme: turned on", { directory: o.config.acme.directoryUrl });
      } else if (!o.config.acme.enabled && acme) {
        acme.stop();
        acme = null;
        o.log.warn("acme: turned off; the last ACME certificate is served until a restart or until [tls] files are set");
      }
    },
  };
}
