/**
 * Every CLI command group. To add a group (e.g. `device`), write
 * src/cli/<group>.ts exporting a Command[] and add it to this list.
 */
import type { Command } from "./command.ts";
import { serveCommands } from "./serve.ts";
import { reloadCommands } from "./reload.ts";
import { domainCommands } from "./domain.ts";
import { userCommands } from "./user.ts";
import { userSecurityCommands } from "./user-security.ts";
import { aliasCommands } from "./alias.ts";
import { quickstartCommands } from "./quickstart.ts";
import { checkCommands } from "./check.ts";
import { queueCommands } from "./queue.ts";
import { benchCommands } from "./bench.ts";
import { deviceCommands } from "./device.ts";
import { calendarCommands } from "./calendar.ts";
import { contactsCommands } from "./contacts.ts";
import { backupCommands } from "./backup.ts";
import { importCommands } from "./import.ts";
import { exportCommands } from "./export.ts";
import { spamCommands } from "./spam.ts";
import { sieveCommands } from "./sieve.ts";

export const commands: Command[] = [
  ...serveCommands,
  ...reloadCommands,
  ...quickstartCommands,
  ...domainCommands,
  ...userCommands,
  ...userSecurityCommands,
  ...aliasCommands,
  ...sieveCommands,
  ...deviceCommands,
  ...calendarCommands,
  ...contactsCommands,
  ...importCommands,
  ...exportCommands,
  ...spamCommands,
  ...queueCommands,
  ...checkCommands,
  ...backupCommands,
  ...benchCommands,
];
