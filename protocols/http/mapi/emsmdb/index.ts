/**
 * The EMSMDB ROP engine over the store (MS-OXCROPS), registered with the
 * MAPI/HTTP transport at import time (../types.ts registerEmsmdb).
 */
import { registerEmsmdb } from "../types.ts";
import { emsmdb } from "./service.ts";

registerEmsmdb(emsmdb);

export { emsmdb };
