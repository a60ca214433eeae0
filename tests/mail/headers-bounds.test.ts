import { expect, test } from "bun:test";
import { MAX_HEADER_FIELD_BYTES, MAX_HEADER_FIELD_LINES, oversizedHeaderField } from "../../mail/headers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const msg = (head: string, body = "hello\r\n") => enc(`From: a@b.example\r\n${head}Date: Mon, 07 Dec 2026 18:42:48 +0000\r\n\r\n${body}`);

test("ordinary headers, a long To and a huge body are within bounds", () => {
  const to = "To: " + Array.from({ length: 2000 }, (_, i) => `user${i}@example.com`).join(",\r\n ") + "\r\n";
  expect(oversizedHeaderField(msg(to))).toBeNull();
  expect(oversizedHeaderField(msg("Subject: hi\r\n", "x".repeat(2_000_000) + "\r\n"))).toBeNull();
  // many fields are fine: only one field's size and folding count
  expect(oversizedHeaderField(msg(Array.from({ length: 20_000 }, (_, i) => `X-F${i}: v\r\n`).join("")))).toBeNull();
});

test("a field over the octet bound or folded into too many lines is named", () => {
  expect(oversizedHeaderField(msg("Subject: " + "x".repeat(MAX_HEADER_FIELD_BYTES) + "\r\n"))).toContain("longer than 128 KB");
  const folded = "Subject: " + Array.from({ length: MAX_HEADER_FIELD_LINES + 1 }, () => "w").join("\r\n ") + "\r\n";
  expect(oversizedHeaderField(msg(folded))).toContain("more than 5000 lines");
  const justFits = "Subject: " + Array.from({ length: MAX_HEADER_FIELD_LINES }, () => "w").join("\r\n ") + "\r\n";
  expect(oversizedHeaderField(msg(justFits))).toBeNull();
});

test("malformed input: no end of header, bare LF, empty message", () => {
  expect(oversizedHeaderField(enc(""))).toBeNull();
  expect(oversizedHeaderField(enc("Subject: " + "y".repeat(MAX_HEADER_FIELD_BYTES + 10)))).toContain("128 KB");
  const lf = "Subject: " + Array.from({ length: MAX_HEADER_FIELD_LINES + 5 }, () => "w").join("\n ") + "\n\nbody\n";
  expect(oversizedHeaderField(enc(lf))).toContain("lines");
});
