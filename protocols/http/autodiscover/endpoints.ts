/**
 * Where clients should connect: host names and ports of the enabled
 * listeners, from the configuration. Shared by autodiscover, Thunderbird
 * autoconfig and the Apple configuration profile.
 */
import type { Config } from "../../../src/config-types.ts";
import { LISTENER_DEFAULTS, type ListenerName } from "../../../src/registry.ts";

export interface ServiceEndpoint {
  kind: "imap" | "pop3" | "smtp";
  port: number;
  /** "SSL" = implicit TLS, "STARTTLS" = upgrade on the plain port. */
  socket: "SSL" | "STARTTLS";
}

export interface Endpoints {
  hostname: string;
  services: ServiceEndpoint[];
  /** https://host[:port] of the web/ActiveSync listener. */
  httpsBase: string;
}

/** A configured port, or the standard one when the listener binds an ephemeral port (0). */
function port(config: Config, name: ListenerName): number | null {
  const l = config.listeners[name];
  if (!l) return null;
  return l.port || LISTENER_DEFAULTS[name];
}

/**
 * @param requestUrl the URL the client used: when the HTTPS listener's port
 * is ephemeral (tests) its port is the one that works.
 */
/** The EWS endpoint (protocols/http/ews), on the web listener. */
export function ewsUrl(ep: Endpoints): string {
  return `${ep.httpsBase}/EWS/Exchange.asmx`;
}

export function endpoints(config: Config, requestUrl?: URL): Endpoints {
  const services: ServiceEndpoint[] = [];
  const add = (kind: ServiceEndpoint["kind"], name: ListenerName, socket: ServiceEndpoint["socket"]) => {
    const p = port(config, name);
    if (p !== null) services.push({ kind, port: p, socket });
  };
  // Implicit TLS first: RFC 8314 §3 prefers it for submission and access.
  add("imap", "IMAPS", "SSL");
  add("imap", "IMAP", "STARTTLS");
  add("pop3", "POP3S", "SSL");
  add("pop3", "POP3", "STARTTLS");
  add("smtp", "SUBMISSIONS", "SSL");
  add("smtp", "SUBMISSION", "STARTTLS");
  const https = config.listeners.HTTPS;
  let httpsPort = https?.port || 443;
  if (https && https.port === 0 && requestUrl && requestUrl.protocol === "https:" && requestUrl.port) httpsPort = Number(requestUrl.port);
  const host = config.hostname;
  return { hostname: host, services, httpsBase: `https://${host}${httpsPort === 443 ? "" : `:${httpsPort}`}` };
}
