/**
 * The receive buffer behind DATA and BDAT (protocols/smtp/message-buffer.ts):
 * one buffer that grows in place, and room in front of the message for the
 * trace fields, so an accepted message is not copied on its way to the store
 * (issue 13 item 1: memory while receiving stays close to the message).
 */
import { describe, expect, test } from "bun:test";
import { DataDecoder } from "../../protocols/smtp/parser.ts";
import { HEADROOM, MessageBuffer, prependInPlace } from "../../protocols/smtp/message-buffer.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("MessageBuffer", () => {
  test("small and large messages keep every byte in order; capacity stays near the size", () => {
    for (const total of [1, 15, 16, 4095, 70_000, 1_100_000, 5_000_000]) {
      const b = new MessageBuffer(8_000_000);
      const src = new Uint8Array(total);
      for (let i = 0; i < total; i++) src[i] = (i * 31 + 7) & 0xff;
      // Mixed append sizes: single octets, short runs and big slices.
      let p = 0;
      let k = 0;
      while (p < total) {
        const n = Math.min(total - p, [1, 3, 17, 65_536, 300_000][k++ % 5]!);
        if (n === 1) b.appendByte(src[p]!);
        else b.append(src, p, p + n);
        p += n;
      }
      const out = b.bytes();
      expect(out.length).toBe(total);
      expect(Buffer.compare(Buffer.from(out), Buffer.from(src))).toBe(0);
      // After bytes() a large buffer is shrunk to fit: headroom + message.
      if (total > 1_048_576) expect(b.retainedBytes).toBe(HEADROOM + total);
      else expect(b.retainedBytes).toBeLessThanOrEqual(Math.max(2 * (HEADROOM + total), HEADROOM + 4096));
      expect(b.retainedChunks).toBe(1);
    }
  });

  test("while growing past 1 MiB the capacity is at most 1.25x the kept bytes plus one step", () => {
    const b = new MessageBuffer(50_000_000);
    const line = enc("a\r\n");
    let worst = 0;
    for (let i = 0; i < 3_000_000; i++) {
      b.append(line);
      if (b.length > 1_100_000 && i % 1000 === 0) worst = Math.max(worst, (b.retainedBytes - 256 * 1024 - HEADROOM) / b.length);
    }
    expect(b.length).toBe(9_000_000);
    expect(worst).toBeLessThanOrEqual(1.25);
  });

  test("clear() releases everything", () => {
    const b = new MessageBuffer(10_000_000);
    b.append(new Uint8Array(3_000_000));
    b.clear();
    expect(b.retainedBytes).toBe(0);
    expect(b.bytes().length).toBe(0);
  });
});

describe("prependInPlace", () => {
  test("a message straight from the buffer takes the trace fields in front without a copy", () => {
    const b = new MessageBuffer(10_000_000);
    b.append(enc("Subject: x\r\n\r\nbody\r\n"));
    const msg = b.bytes();
    const out = prependInPlace(msg, enc("Received: from a\r\n"));
    expect(out.buffer).toBe(msg.buffer);
    expect(out.byteOffset + out.length).toBe(msg.byteOffset + msg.length);
    expect(new TextDecoder().decode(out)).toBe("Received: from a\r\nSubject: x\r\n\r\nbody\r\n");
  });

  test("the room is used once: a second prefix, a slice or a foreign array is copied", () => {
    const b = new MessageBuffer(1000);
    b.append(enc("Subject: y\r\n\r\n"));
    const msg = b.bytes();
    const first = prependInPlace(msg, enc("A: 1\r\n"));
    const second = prependInPlace(msg, enc("B: 2\r\n"));
    expect(second.buffer).not.toBe(msg.buffer);
    // The first result is untouched by the second call.
    expect(new TextDecoder().decode(first)).toBe("A: 1\r\nSubject: y\r\n\r\n");
    expect(new TextDecoder().decode(second)).toBe("B: 2\r\nSubject: y\r\n\r\n");
    // bytes() again does not hand the used room out a second time.
    const again = b.bytes();
    expect(prependInPlace(again, enc("C: 3\r\n")).buffer).not.toBe(msg.buffer);
    const slice = msg.subarray(1);
    expect(prependInPlace(slice, enc("D\r\n")).buffer).not.toBe(msg.buffer);
    const foreign = enc("Subject: z\r\n\r\n");
    expect(new TextDecoder().decode(prependInPlace(foreign, enc("E: 5\r\n")))).toBe("E: 5\r\nSubject: z\r\n\r\n");
  });

  test("a prefix larger than the room is copied, not written out of bounds", () => {
    const b = new MessageBuffer(1000);
    b.append(enc("S: 1\r\n\r\n"));
    const msg = b.bytes();
    const big = new Uint8Array(HEADROOM + 1).fill(65);
    const out = prependInPlace(msg, big);
    expect(out.length).toBe(HEADROOM + 1 + msg.length);
    expect(out.buffer).not.toBe(msg.buffer);
  });
});

test("a 6 MB DATA body of bare-LF lines decodes into one buffer of headroom + message", () => {
  const d = new DataDecoder(50_000_000);
  const chunk = enc("a\n".repeat(32_768));
  d.push(enc("Subject: x\r\n\r\n"));
  for (let i = 0; i < 92; i++) d.push(chunk);
  expect(d.push(enc("\r\n.\r\n")).done).toBe(true);
  const msg = d.message();
  expect(msg.length).toBe(14 + 92 * 32_768 * 3 + 2);
  expect(d.retainedBytes).toBe(HEADROOM + msg.length);
  expect(d.retainedChunks).toBe(1);
});
