/**
 * The reading half of the mail kind (kinds.ts, mail-kind.ts).
 * SKELETON: the contract's placeholder, replaced by its owner.
 */
import type { MessageIndex } from "../../../storage/api.ts";
import { EwsError } from "./context.ts";
import type { ItemKind } from "./kinds.ts";

/** A mail item as the mail kind loads it: the store's index row (parsed at delivery). */
export interface MailItem {
  index: MessageIndex;
}

const todo = (): never => {
  throw new EwsError("ErrorInvalidOperation", "mail reading is being built");
};

export const mailRead: Pick<ItemKind<MailItem>, "list" | "load" | "render" | "value" | "remove" | "move" | "copy"> = {
  list: async () => todo(),
  load: async () => todo(),
  render: async () => todo(),
  value: () => todo(),
  remove: async () => todo(),
  move: async () => todo(),
  copy: async () => todo(),
};
