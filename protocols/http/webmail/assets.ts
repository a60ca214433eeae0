/**
 * Serves the webmail client bundle from the embedded module that
 * `scripts/build-web.ts` generates, so the compiled binary needs no files
 * beside it. Names carry a content hash, so they are cached forever.
 */
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import { bundle } from "./assets.generated.ts";

export interface Asset {
  name: string;
  type: string;
  body: Uint8Array;
  gzip: Uint8Array;
  hash: string;
}

export class Assets {
  private byPath = new Map<string, Asset>();
  private byName = new Map<string, Asset>();

  constructor(files: Record<string, { type: string; body: string }> = bundle.files) {
    for (const [name, f] of Object.entries(files)) {
      const body = new TextEncoder().encode(f.body);
      const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
      const asset: Asset = { name, type: f.type, body, gzip: new Uint8Array(gzipSync(body, { level: 9 })), hash };
      const dot = name.lastIndexOf(".");
      const path = `/assets/${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
      this.byPath.set(path, asset);
      this.byName.set(name, asset);
    }
  }

  url(name: string): string {
    const a = this.byName.get(name);
    if (!a) return `/assets/${name}`;
    const dot = name.lastIndexOf(".");
    return `/assets/${name.slice(0, dot)}.${a.hash}${name.slice(dot)}`;
  }

  mount(app: Hono<AppEnv>): void {
    app.get("/assets/:file", (c) => {
      const a = this.byPath.get(new URL(c.req.url).pathname);
      if (!a) return c.text("Not found\n", 404);
      const gz = /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
      const body = gz ? a.gzip : a.body;
      return new Response(body as Uint8Array<ArrayBuffer>, {
        headers: {
          "content-type": a.type,
          "cache-control": "public, max-age=31536000, immutable",
          vary: "accept-encoding",
          ...(gz ? { "content-encoding": "gzip" } : {}),
          "content-length": String(body.byteLength),
        },
      });
    });
  }
}
