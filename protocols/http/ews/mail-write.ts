/**
 * The writing half of the mail kind (kinds.ts, mail-kind.ts).
 * SKELETON: the contract's placeholder, replaced by its owner.
 */
import { EwsError } from "./context.ts";
import type { ItemKind } from "./kinds.ts";
import type { MailItem } from "./mail-read.ts";

const todo = (): never => {
  throw new EwsError("ErrorInvalidOperation", "mail writing is being built");
};

export const mailWrite: Pick<ItemKind<MailItem>, "create" | "update"> = {
  create: async () => todo(),
  update: async () => todo(),
};
