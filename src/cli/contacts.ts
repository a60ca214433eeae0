/** `pillarbox contacts import|export|list`: address books of an account as vCard files (RFC 6350, vCard 3.0 RFC 2426). */
import { createHash } from "node:crypto";
import { splitVCards } from "../groupware/vcard/index.ts";
import type { Collection } from "../groupware/types.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkEmail, table, withStore } from "./common.ts";
import { CliError } from "./args.ts";
import { accountOf, collectionFor, importEntries, lineNumbers, openGroupware, OutputFile, printSummary, Progress, readInput, uidOf, type ImportEntry } from "./groupware-io.ts";

/**
 * A card without UID gets one derived from its text, inserted after its
 * VERSION line (CardDAV requires a UID, RFC 6352 §6.3.2.3; many exports,
 * e.g. from phones and webmail address books, have none). Derived from the
 * content, so importing the same file again updates instead of duplicating.
 */
function withUid(card: string): string {
  const h = createHash("sha256").update(card).digest("hex");
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  const nl = card.includes("\r\n") ? "\r\n" : "\n";
  const m = /^VERSION:[^\r\n]*\r?\n/im.exec(card);
  const at = m ? m.index + m[0].length : card.indexOf("\n") + 1;
  return `${card.slice(0, at)}UID:urn:uuid:${uuid}${nl}${card.slice(at)}`;
}

export const contactsCommands: Command[] = [
  {
    name: "contacts list",
    usage: "EMAIL",
    summary: "list the address books of an account",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "contacts list");
      await withStore(args, io, async (store) => {
        const account = await accountOf(store, email);
        const gw = openGroupware(store);
        await gw.ensureDefaults(account);
        const rows: string[][] = [["NAME", "DISPLAY NAME", "CONTACTS", "DEFAULT"]];
        for (const c of await gw.listCollections(account, "contacts")) rows.push([c.name, c.displayName, String((await gw.listObjects(c)).length), c.isDefault ? "yes" : ""]);
        io.out(table(rows));
      });
    },
  },
  {
    name: "contacts import",
    usage: "EMAIL FILE.vcf [--addressbook NAME]",
    summary: "import contacts from a vCard file",
    help: `Reads FILE.vcf ("-" = standard input: vCard 3.0 or 4.0, any number of cards) and stores
each card exactly as written into the default address book or NAME (created when
missing). A card whose UID is already in the address book is updated (left alone when
identical), never duplicated; a card without UID gets one derived from its text (so a
second import of the same file updates). Cards that cannot be stored are listed on
standard error with their position and the reason, and skipped; the rest is imported.
A progress line is shown for large files. Exit code 1 when anything was skipped.`,
    options: { ...COMMON_OPTIONS, addressbook: { value: true, arg: "NAME", help: "the address book (URL name) to import into" } },
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "contacts import");
      const file = args.positionals[1]!;
      const name = typeof args.options["addressbook"] === "string" ? args.options["addressbook"] : undefined;
      const text = await readInput(file, io);
      return await withStore(args, io, async (store) => {
        const account = await accountOf(store, email);
        const gw = openGroupware(store);
        const split = splitVCards(text);
        // the cards are byte-exact slices in file order: find each one's offset for its line number
        const offsets: number[] = [];
        let from = 0;
        for (const card of split.cards) {
          const at = text.indexOf(card, from);
          offsets.push(at >= 0 ? at : from);
          if (at >= 0) from = at + card.length;
        }
        const lines = lineNumbers(text, offsets);
        let added = 0;
        const entries: ImportEntry[] = split.cards.map((card, i) => {
          let t = card;
          let uid = uidOf(card);
          if (uid === null) {
            t = withUid(card);
            uid = uidOf(t);
            added++;
          }
          return { position: `card ${i + 1} (line ${lines[i]})`, text: t, uid };
        });
        const c = await collectionFor(gw, account, name, ["contacts"], "contacts", io);
        const progress = new Progress(io, `importing ${file === "-" ? "standard input" : file}`, entries.length);
        const r = await importEntries(gw, entries, () => c, ".vcf", progress);
        r.skipped.unshift(...split.errors.map((reason) => ({ position: "in the file", reason })));
        return printSummary(io, `${entries.length} cards`, `${email}/${c.name}`, r, added > 0 ? [`${added} cards had no UID and were given one`] : []);
      });
    },
  },
  {
    name: "contacts export",
    usage: "EMAIL FILE.vcf [--addressbook NAME]",
    summary: "export contacts to a vCard file",
    help: `Writes the cards of every address book of EMAIL (or only NAME) to FILE.vcf ("-" =
standard output), one after the other, each exactly as stored. FILE is replaced only
when the export is complete. The directory (global address list) is not exported.`,
    options: { ...COMMON_OPTIONS, addressbook: { value: true, arg: "NAME", help: "export only this address book (URL name)" } },
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "contacts export");
      const file = args.positionals[1]!;
      const name = typeof args.options["addressbook"] === "string" ? args.options["addressbook"] : undefined;
      await withStore(args, io, async (store) => {
        const account = await accountOf(store, email);
        const gw = openGroupware(store);
        await gw.ensureDefaults(account);
        let books: Collection[];
        if (name !== undefined) {
          const c = await gw.getCollection(account, name);
          if (!c || c.kind !== "contacts") throw new CliError(`${email} has no address book ${name} (see: pillarbox contacts list ${email})`);
          books = [c];
        } else books = await gw.listCollections(account, "contacts");
        const lists = await Promise.all(books.map((b) => gw.listObjects(b)));
        const total = lists.reduce((n, l) => n + l.length, 0);
        const progress = new Progress(io, `exporting to ${file}`, total);
        const out = new OutputFile(file, io);
        let n = 0;
        try {
          for (const list of lists) {
            for (const o of list) {
              const body = await gw.readBody(o);
              out.write(body);
              // each card byte-exact; a line break between cards if one lacks its final one
              const last = body[body.length - 1];
              if (body.length > 0 && last !== 10) out.write("\r\n");
              progress.tick(++n);
            }
          }
          progress.done();
          out.commit();
        } catch (e) {
          out.abort();
          throw e;
        }
        const msg = `exported ${n} cards from ${books.map((b) => b.name).join(", ")} (${out.bytes} bytes)`;
        if (file === "-") io.err(msg + "\n");
        else io.out(`${msg} to ${file}\n`);
      });
    },
  },
];
