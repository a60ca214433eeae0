/**
 * Importing this module registers every built protocol with the registry.
 * Each line is one protocol folder; its index.ts calls registerProtocol().
 */
import "./smtp/index.ts";
import "./http/index.ts"; // loads webmail, ActiveSync and autodiscover (http/site.ts) on the first request
import "./imap/index.ts";
import "./pop3/index.ts";
import "./managesieve/index.ts";
