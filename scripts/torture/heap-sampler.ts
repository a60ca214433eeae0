/**
 * Loaded into a soak's server with `bun --preload` (scripts/torture/soak
 * --heap): every 30 s it forces a full garbage collection and appends one
 * JSON line to $PILLARBOX_HEAP_SAMPLES with the JavaScript heap and the
 * memory held outside it (ArrayBuffers). RSS alone cannot tell a leak from
 * caches filling up or the allocator keeping freed pages; the live heap
 * after a full collection can: a leak keeps growing it.
 */
import { heapStats } from "bun:jsc";
import { appendFileSync } from "node:fs";

const out = process.env.PILLARBOX_HEAP_SAMPLES;
if (out) {
  const t0 = Date.now();
  setInterval(() => {
    Bun.gc(true);
    const h = heapStats();
    const m = process.memoryUsage();
    const sample = {
      t: Math.round((Date.now() - t0) / 1000),
      rssKb: Math.round(m.rss / 1024),
      heapKb: Math.round(h.heapSize / 1024),
      externalKb: Math.round(m.external / 1024),
      objects: h.objectCount,
    };
    appendFileSync(out, JSON.stringify(sample) + "\n");
  }, 30_000).unref();
}
