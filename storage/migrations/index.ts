/**
 * Every migration, in any order (migrate.ts sorts by version). Add new
 * modules here; never edit or renumber an applied one.
 */
import type { Migration } from "./types.ts";
import { migration as m0001 } from "./0001_initial.ts";
import { migration as m0002 } from "./0002_contentless_fts.ts";
import { migration as m0003 } from "./0003_deferred_fts.ts";
import { migration as m0004 } from "./0004_crlf_size.ts";
import { migration as m0010 } from "./0010_eas.ts";
import { migration as m0011 } from "./0011_eas_device_ip.ts";
import { migration as m0020 } from "./0020_webmail.ts";
import { migration as m0021 } from "./0021_webmail_uploads.ts";
import { migration as m0030 } from "./0030_item_model.ts";
import { migration as m0031 } from "./0031_change_feed.ts";
import { migration as m0032 } from "./0032_calendar_span.ts";
import { migration as m0033 } from "./0033_feed_by_folder.ts";
import { migration as m0034 } from "./0034_dav_resources.ts";
import { migration as m0035 } from "./0035_calendar_people.ts";
import { migration as m0040 } from "./0040_account_security.ts";
import { migration as m0043 } from "./0043_spam.ts";
import { migration as m0041 } from "./0041_sieve.ts";
import { migration as m0042 } from "./0042_bayes.ts";

export type { Migration } from "./types.ts";

export const migrations: Migration[] = [m0001, m0002, m0003, m0004, m0010, m0011, m0020, m0021, m0030, m0031, m0032, m0033, m0034, m0035, m0040, m0043, m0041, m0042];
