/** Hono environment shared by the HTTP module and the webmail. */
import type { Account } from "../../storage/api.ts";
import type { HttpEnv } from "./bridge.ts";
import type { ActiveSession } from "./webmail/session.ts";

export type AppEnv = {
  Bindings: HttpEnv;
  Variables: {
    session: ActiveSession;
    account: Account;
  };
};
