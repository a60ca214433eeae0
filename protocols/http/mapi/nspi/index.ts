/**
 * The NSPI address book over MAPI/HTTP: importing this module registers the
 * service with the transport (types.ts registerNspi).
 */
import { registerNspi } from "../types.ts";
import { nspi } from "./service.ts";

registerNspi(nspi);

export { nspi };
