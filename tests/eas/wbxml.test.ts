import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CODE_PAGES } from "../../protocols/http/eas/wbxml/codepages.ts";
import { decode, encode, WbxmlError } from "../../protocols/http/eas/wbxml/codec.ts";
import { el, isElement, type WElement, type WNode } from "../../protocols/http/eas/wbxml/tree.ts";
import { compareWithLibwbxml, libwbxmlBase64Elements, libwbxmlDecode, libwbxmlEncode, libwbxmlNames, runWbxml2xml } from "./libwbxml.ts";
import { parseXml } from "../../protocols/http/autodiscover/xml.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Adjacent text nodes merge when decoded; empty text disappears. */
function normalise(e: WElement): WElement {
  const out: WNode[] = [];
  for (const c of e.children) {
    if (typeof c === "string") {
      if (c === "") continue;
      const last = out[out.length - 1];
      if (typeof last === "string") out[out.length - 1] = last + c;
      else out.push(c);
    } else if (c instanceof Uint8Array) out.push(c);
    else out.push(normalise(c));
  }
  return { ns: e.ns, name: e.name, children: out };
}

const sampleSync = el(
  "AirSync:Sync",
  el(
    "AirSync:Collections",
    el(
      "AirSync:Collection",
      el("AirSync:SyncKey", "0"),
      el("AirSync:CollectionId", "12"),
      el("AirSync:DeletesAsMoves", "1"),
      el("AirSync:GetChanges"),
      el("AirSync:WindowSize", "25"),
      el(
        "AirSync:Options",
        el("AirSync:FilterType", "0"),
        el("AirSyncBase:BodyPreference", el("AirSyncBase:Type", "2"), el("AirSyncBase:TruncationSize", "5120")),
        el("AirSync:MIMESupport", "0"),
      ),
      el("AirSync:Commands", el("AirSync:Change", el("AirSync:ServerId", "12:7"), el("AirSync:ApplicationData", el("Email:Read", "1"), el("Email:Flag", el("Email:Status", "2"), el("Email:FlagType", "Follow up"))))),
    ),
  ),
);

const sampleSendMail = el(
  "ComposeMail:SendMail",
  el("ComposeMail:ClientId", "c-1"),
  el("ComposeMail:SaveInSentItems"),
  el("ComposeMail:Mime", new TextEncoder().encode("From: a@b.test\r\nTo: c@d.test\r\nSubject: héllo & <you>\r\n\r\nbody\r\n")),
);

const sampleResponse = el(
  "ItemOperations:ItemOperations",
  el("ItemOperations:Status", "1"),
  el(
    "ItemOperations:Response",
    el(
      "ItemOperations:Fetch",
      el("ItemOperations:Status", "1"),
      el("AirSyncBase:FileReference", "5:2"),
      el("ItemOperations:Properties", el("AirSyncBase:ContentType", "image/png"), el("ItemOperations:Data", "iVBORw0KGgo=")),
    ),
  ),
);

describe("code pages", () => {
  test("every page 0x00-0x19 is present with its MS-ASWBXML namespace", () => {
    expect(CODE_PAGES.map((p) => p.id)).toEqual(Array.from({ length: 26 }, (_, i) => i));
    expect(CODE_PAGES[0]!.namespace).toBe("AirSync");
    expect(CODE_PAGES[0x11]!.namespace).toBe("AirSyncBase");
    expect(CODE_PAGES[0x19]!.namespace).toBe("Find");
    expect(CODE_PAGES[0x19]!.tokens.get("Picture")).toBe(0x22);
    expect(CODE_PAGES[0x0e]!.tokens.get("AccountOnlyRemoteWipe")).toBe(0x3b);
  });

  test("libwbxml agrees on every token it knows, page by page", () => {
    const names = libwbxmlNames();
    // Reverse direction: every token libwbxml knows (decoded from raw bytes) is one we know, at the same token.
    for (const p of CODE_PAGES.slice(0, 0x19)) {
      const body: number[] = [0x03, 0x01, 0x6a, 0x00, 0x45]; // <Sync>
      body.push(0x00, p.id);
      for (let t = 0x05; t <= 0x3f; t++) body.push(t);
      body.push(0x01);
      const x = parseXml(Buffer.from(runWbxml2xml(new Uint8Array(body)), "latin1").toString("utf8"));
      const kids = x.children.filter((c) => typeof c !== "string") as { name: string }[];
      expect(kids.length).toBe(0x3f - 0x05 + 1);
      kids.forEach((k, i) => {
        const tok = 0x05 + i;
        if (k.name === "unknown") return;
        const ours = p.tags.get(tok);
        expect(`${p.namespace}:${tok.toString(16)}:${ours ? "known" : "missing"}`).toBe(`${p.namespace}:${tok.toString(16)}:known`);
        expect(names.toLib.get(`${p.namespace}:${ours}`)).toBe(k.name);
      });
    }
    // Tags libwbxml 0.11.8 lacks: all of Find (16.1) and three newer tags.
    const unknown = [...names.toLib].filter(([, v]) => v === "unknown").map(([k]) => k);
    expect(unknown.filter((k) => !k.startsWith("Find:")).sort()).toEqual(
      ["MeetingResponse:ProposedEndTime", "MeetingResponse:ProposedStartTime", "Provision:AccountOnlyRemoteWipe", "Search:Stores", "Search:SubstringOp"].sort(),
    );
    expect(unknown.filter((k) => k.startsWith("Find:")).length).toBe(CODE_PAGES[0x19]!.tags.size);
  });
});

describe("codec against libwbxml2-utils", () => {
  for (const [name, doc] of [
    ["Sync request", sampleSync],
    ["SendMail with opaque MIME", sampleSendMail],
    ["ItemOperations response", sampleResponse],
  ] as const) {
    test(`${name}: our bytes equal xml2wbxml's, and wbxml2xml reads ours back identically`, () => {
      const ours = encode(doc);
      const theirs = libwbxmlEncode(doc);
      expect(hex(ours)).toBe(hex(theirs));
      expect(normalise(decode(theirs).root)).toEqual(normalise(doc));
      expect(compareWithLibwbxml(decode(ours).root, libwbxmlDecode(ours))).toEqual([]);
    });
  }

  test("the MS-ASWBXML example prefix decodes (Sync response with a contact)", () => {
    const b = Buffer.from(
      "03016A00455C4F5003436F6E746163747300014B0332000152033200014E0331000156474D03323A3100015D00114A4603310001" +
        "4C033000014D0331000101" +
        "010101010101",
      "hex",
    );
    // The spec's bytes up to the airsyncbase:Body, closed by hand: checks switch-page and content bits.
    const doc = decode(new Uint8Array(b));
    expect(doc.root.name).toBe("Sync");
    const body = (((doc.root.children[0] as WElement).children[0] as WElement).children[4] as WElement).children[0] as WElement;
    expect(body.name).toBe("Add");
    const app = body.children[1] as WElement;
    expect(app.name).toBe("ApplicationData");
    expect((app.children[0] as WElement).ns).toBe("AirSyncBase");
    expect(compareWithLibwbxml(doc.root, libwbxmlDecode(new Uint8Array(b)))).toEqual([]);
  });

  test("random documents: our encoding equals xml2wbxml's byte for byte", () => {
    const b64 = libwbxmlBase64Elements();
    const names = libwbxmlNames();
    const known = CODE_PAGES.slice(0, 0x19).flatMap((p) => [...p.tags.values()].filter((n) => names.toLib.get(`${p.namespace}:${n}`) !== "unknown").map((n) => ({ ns: p.namespace, name: n })));
    const text = fc.string({ unit: fc.constantFrom(..."abcXYZ 09-_.:@é€😀<>&\"'\n\t\r".split(/(?:)/u)), minLength: 1, maxLength: 12 });
    const tree: fc.Arbitrary<WElement> = fc.letrec((tie) => ({
      node: fc.tuple(fc.constantFrom(...known), fc.oneof({ depthSize: "small" }, fc.constant([] as WNode[]), text.map((t) => [t] as WNode[]), fc.array(tie("node") as fc.Arbitrary<WElement>, { maxLength: 4 }))).map(
        ([t, children]) => ({ ns: t.ns, name: t.name, children }) as WElement,
      ),
    })).node as fc.Arbitrary<WElement>;
    let compared = 0;
    fc.assert(
      fc.property(tree, (doc) => {
        // Opaque only where libwbxml can express it (base64 elements): attach one to a leaf when possible.
        const withOpaque = (e: WElement): WElement => (e.children.length === 0 && b64.has(`${e.ns}:${e.name}`) ? { ...e, children: [new Uint8Array([0, 1, 2, 250, 13, 10])] } : { ...e, children: e.children.map((c) => (isElement(c) ? withOpaque(c) : c)) });
        const d = withOpaque(doc);
        expect(hex(encode(d))).toBe(hex(libwbxmlEncode(d)));
        compared++;
      }),
      { numRuns: 40, seed: 7 },
    );
    expect(compared).toBe(40);
  });
});

describe("strict decoding", () => {
  const good = encode(sampleSync);

  const codeOf = (b: number[] | Uint8Array): string => {
    try {
      decode(b instanceof Uint8Array ? b : new Uint8Array(b));
      return "ok";
    } catch (e) {
      if (e instanceof WbxmlError) return e.code;
      throw e;
    }
  };

  test("every truncation of a valid document is a WbxmlError", () => {
    for (let n = 0; n < good.length; n++) expect(codeOf(good.subarray(0, n))).not.toBe("ok");
    expect(codeOf(good)).toBe("ok");
  });

  test("unknown code page", () => {
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x00, 0x1a, 0x45, 0x01])).toBe("UNKNOWN_PAGE");
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x00, 0xff, 0x45, 0x01, 0x01])).toBe("UNKNOWN_PAGE");
  });

  test("unknown tag", () => {
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x2a])).toBe("UNKNOWN_TAG");
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x00, 0x19, 0x0f])).toBe("UNKNOWN_TAG"); // Find 0x0F is unassigned
  });

  test("bad mb_u_int32", () => {
    expect(codeOf([0x03, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x6a, 0x00, 0x05])).toBe("BAD_MB_UINT32");
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x4b, 0xc3, 0x90, 0x80, 0x80, 0x80, 0x00])).toBe("BAD_MB_UINT32"); // > 2^32
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x4b, 0xc3, 0x8f, 0xff, 0xff, 0xff, 0x7f])).toBe("TRUNCATED"); // 2^32-1 bytes announced
  });

  test("string table references", () => {
    // table "abc\0", <Sync><SyncKey>STR_T 0</SyncKey></Sync>
    expect(codeOf([0x03, 0x01, 0x6a, 0x04, 0x61, 0x62, 0x63, 0x00, 0x45, 0x4b, 0x83, 0x00, 0x01, 0x01])).toBe("ok");
    const d = decode(new Uint8Array([0x03, 0x01, 0x6a, 0x04, 0x61, 0x62, 0x63, 0x00, 0x45, 0x4b, 0x83, 0x01, 0x01, 0x01]));
    expect((d.root.children[0] as WElement).children).toEqual(["bc"]);
    expect(codeOf([0x03, 0x01, 0x6a, 0x04, 0x61, 0x62, 0x63, 0x00, 0x45, 0x4b, 0x83, 0x04, 0x01, 0x01])).toBe("STRING_TABLE");
    expect(codeOf([0x03, 0x01, 0x6a, 0x03, 0x61, 0x62, 0x63, 0x45, 0x4b, 0x83, 0x00, 0x01, 0x01])).toBe("STRING_TABLE");
    expect(codeOf([0x03, 0x01, 0x6a, 0x09, 0x61])).toBe("TRUNCATED");
  });

  test("tokens ActiveSync does not use", () => {
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x04, 0x00, 0x01])).toBe("UNSUPPORTED_TOKEN"); // LITERAL
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x40, 0x61, 0x00, 0x01])).toBe("UNSUPPORTED_TOKEN"); // EXT_I_0
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x43, 0x01])).toBe("UNSUPPORTED_TOKEN"); // PI
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0xc5, 0x01, 0x01])).toBe("UNSUPPORTED_TOKEN"); // attributes
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x03, 0x61, 0x00])).toBe("STRUCTURE"); // text before the root
  });

  test("header checks, UTF-8, trailing bytes, depth", () => {
    expect(codeOf([0x04, 0x01, 0x6a, 0x00, 0x05])).toBe("VERSION");
    expect(codeOf([0x03, 0x01, 0x04, 0x00, 0x05])).toBe("CHARSET");
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x4b, 0x03, 0xc3, 0x28, 0x00, 0x01, 0x01])).toBe("BAD_UTF8");
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x05, 0x05])).toBe("STRUCTURE");
    const deep = [0x03, 0x01, 0x6a, 0x00, ...Array(100).fill(0x45), ...Array(100).fill(0x01)];
    expect(codeOf(deep)).toBe("LIMIT");
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x02, 0x81, 0x00, 0x01])).toBe("ok"); // ENTITY U+0080
    expect(codeOf([0x03, 0x01, 0x6a, 0x00, 0x45, 0x02, 0x00, 0x01])).toBe("BAD_UTF8"); // ENTITY NUL
  });

  test("random bytes never escape as anything but WbxmlError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (tail, header) => {
        const b = header ? new Uint8Array([0x03, 0x01, 0x6a, 0x00, ...tail]) : tail;
        codeOf(b);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});

describe("property: round trip", () => {
  const all = CODE_PAGES.flatMap((p) => [...p.tags.values()].map((n) => ({ ns: p.namespace, name: n })));
  const leaf = fc.oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter((s) => !s.includes("\0")),
    fc.uint8Array({ maxLength: 40 }),
  );
  const tree: fc.Arbitrary<WElement> = fc.letrec((tie) => ({
    node: fc
      .tuple(fc.constantFrom(...all), fc.array(fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("node") as fc.Arbitrary<WElement>), { maxLength: 5 }))
      .map(([t, children]) => ({ ns: t.ns, name: t.name, children: children as WNode[] })),
  })).node as fc.Arbitrary<WElement>;

  test("decode(encode(doc)) equals doc for random documents over every code page", () => {
    fc.assert(
      fc.property(tree, (doc) => {
        expect(normalise(decode(encode(doc)).root)).toEqual(normalise(doc));
      }),
      { numRuns: 1500, seed: 3 },
    );
  });
});
