/**
 * The contacts summary cache (protocols/http/webmail/contacts-cache.ts):
 * rebuilt only when a book's modseq changed, re-reading only changed cards,
 * bounded in books and rows, and the folded search (accents, word starts).
 */
import { describe, expect, test } from "bun:test";
import { ContactCache, fold, queryWords, rowMatches } from "../../protocols/http/webmail/contacts-cache.ts";
import type { Collection, Groupware, StoredObject } from "../../src/groupware/types.ts";

/** A book in memory: what the cache calls of the groupware service (listObjects, readBody). */
class FakeBooks {
  cards = new Map<number, Map<string, { id: number; modseq: number; text: string }>>();
  reads = 0;
  private next = 1;

  put(folder: number, name: string, fn: string, extra = ""): void {
    const book = this.cards.get(folder) ?? new Map();
    this.cards.set(folder, book);
    const old = book.get(name);
    book.set(name, { id: old?.id ?? this.next++, modseq: this.next++, text: `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${name}\r\nFN:${fn}\r\n${extra}END:VCARD\r\n` });
  }
  collection(folder: number): Collection {
    const book = this.cards.get(folder) ?? new Map();
    const modseq = Math.max(0, ...[...book.values()].map((c) => c.modseq));
    return { id: folder, accountId: 1, kind: "contacts", name: `b${folder}`, displayName: "", description: "", color: "", order: 0, modseq, timezone: "", isDefault: false };
  }
  groupware(): Groupware {
    const fake = {
      listObjects: async (c: Collection): Promise<StoredObject[]> =>
        [...(this.cards.get(c.id) ?? new Map()).entries()].map(([name, x]) => ({
          resourceName: name,
          etag: `"${x.modseq}"`,
          item: { id: x.id, modseq: x.modseq, itemClass: "contacts", fields: { uid: name, fullName: "", sortName: "", emails: [], phones: [], org: "" } } as unknown as StoredObject["item"],
        })),
      readBody: async (o: StoredObject): Promise<Uint8Array> => {
        this.reads++;
        // resource names are unique across the fake's books
        return new TextEncoder().encode([...this.cards.values()].map((b) => b.get(o.resourceName)).find(Boolean)!.text);
      },
    };
    // Only the two methods the cache uses exist; the rest of the interface is never called here.
    return fake as unknown as Groupware;
  }
}

describe("ContactCache", () => {
  test("built once per modseq; a change re-reads only the changed card; a delete drops its row", async () => {
    const f = new FakeBooks();
    for (let i = 0; i < 50; i++) f.put(1, `c${i}.vcf`, `Person ${i}`);
    const cache = new ContactCache(f.groupware());
    const a = await cache.rows(f.collection(1));
    expect(a.rows.length).toBe(50);
    expect(f.reads).toBe(50);
    const again = await cache.rows(f.collection(1));
    expect(again).toBe(a);
    expect(f.reads).toBe(50);
    f.put(1, "c7.vcf", "Renamed Person");
    const b = await cache.rows(f.collection(1));
    expect(f.reads).toBe(51);
    expect(b.rows.find((r) => r.summary.id === "c7.vcf")?.summary.fullName).toBe("Renamed Person");
    f.cards.get(1)!.delete("c8.vcf");
    f.put(1, "c9.vcf", "Person 9b"); // a write after the delete raises the modseq
    const c = await cache.rows(f.collection(1));
    expect(c.rows.length).toBe(49);
    expect(c.rows.some((r) => r.summary.id === "c8.vcf")).toBe(false);
  });

  test("concurrent requests for the same state share one build", async () => {
    const f = new FakeBooks();
    for (let i = 0; i < 20; i++) f.put(1, `c${i}.vcf`, `P ${i}`);
    const cache = new ContactCache(f.groupware());
    const [x, y] = await Promise.all([cache.rows(f.collection(1)), cache.rows(f.collection(1))]);
    expect(x).toBe(y);
    expect(f.reads).toBe(20);
  });

  test("bounded: at most N books and M rows; least recently used go first; a book over M is kept alone", async () => {
    const f = new FakeBooks();
    for (let b = 1; b <= 4; b++) for (let i = 0; i < 10; i++) f.put(b, `b${b}c${i}.vcf`, `P ${b} ${i}`);
    for (let i = 0; i < 40; i++) f.put(9, `big${i}.vcf`, `Big ${i}`);
    const cache = new ContactCache(f.groupware(), { books: 2, rows: 25 });
    await cache.rows(f.collection(1));
    await cache.rows(f.collection(2));
    expect(cache.size()).toEqual({ books: 2, rows: 20 });
    await cache.rows(f.collection(1)); // 1 is now the most recent
    await cache.rows(f.collection(3)); // evicts 2
    expect(cache.size()).toEqual({ books: 2, rows: 20 });
    const before = f.reads;
    await cache.rows(f.collection(1));
    expect(f.reads).toBe(before); // still cached
    await cache.rows(f.collection(2));
    expect(f.reads).toBe(before + 10); // was evicted, read again
    const big = await cache.rows(f.collection(9));
    expect(big.rows.length).toBe(40);
    // a book over the whole budget is kept alone (not read again on every request)
    expect(cache.size()).toEqual({ books: 1, rows: 40 });
    const reads = f.reads;
    await cache.rows(f.collection(9));
    expect(f.reads).toBe(reads);
  });

  test("group version: the book's prevailing vCard version", async () => {
    const f = new FakeBooks();
    f.put(1, "a.vcf", "A");
    const cache = new ContactCache(f.groupware());
    expect((await cache.rows(f.collection(1))).version).toBe("3.0");
  });
});

describe("folded search", () => {
  test("accents and case folded; words are letters and digits", () => {
    expect(fold("Müller Genève ÅSTRÖM Łódź")).toBe("muller geneve astrom łodz");
    expect(queryWords(" Hans.MÜL@x ")).toEqual(["hans", "mul", "x"]);
    expect(queryWords("!!!")).toEqual([]);
  });

  test("substring (list) and word-start (autocomplete) matching", () => {
    const row = { search: " jurgen muller jm example de jm@example.de" };
    expect(rowMatches(row, ["ller"], false)).toBe(true);
    expect(rowMatches(row, ["ller"], true)).toBe(false);
    expect(rowMatches(row, ["mul", "jur"], true)).toBe(true);
    expect(rowMatches(row, ["mul", "zed"], true)).toBe(false);
  });
});
