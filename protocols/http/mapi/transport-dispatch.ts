/**
 * Running a service call for the transport: its errors become
 * X-ResponseCodes (a MapiHttpError's own code; anything else is the
 * server's failure, logged, X-ResponseCode 1), and the streamed form of
 * the answer (MS-OXCMAPIHTTP §3.2.5.2: PROCESSING at once, PENDING every
 * pending period while the call runs, then DONE, the additional headers
 * and the body).
 */
import type { Logger } from "../../../src/log.ts";
import { finalChunk, META } from "./transport-frame.ts";
import { MapiHttpError, ResponseCode, type MapiContext, type ResponseCodeValue } from "./types.ts";

export type Call = (c: MapiContext) => Promise<Uint8Array>;

export interface Outcome {
  code: ResponseCodeValue;
  body: Uint8Array;
}

const enc = new TextEncoder();

/** Runs the call; never throws. A refusal's body is a line of text (the client reads it only as diagnostics, §2.2.3.3.3). */
export async function runService(call: Call, c: MapiContext, log: Logger): Promise<Outcome> {
  const started = performance.now();
  const out = await attempt(call, c, log);
  // One line per service call (the log's fields name the endpoint and the request type).
  log.debug("mapi: request", { code: out.code, bytes: out.body.length, ms: Math.round(performance.now() - started) });
  return out;
}

async function attempt(call: Call, c: MapiContext, log: Logger): Promise<Outcome> {
  try {
    return { code: ResponseCode.Success, body: await call(c) };
  } catch (e) {
    if (e instanceof MapiHttpError) return { code: e.responseCode, body: enc.encode(e.message.slice(0, 500) + "\r\n") };
    log.error("mapi: service failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return { code: ResponseCode.UnknownFailure, body: enc.encode("The server could not complete the request.\r\n") };
  }
}

/** The streamed response body of a call that may take a while (Execute, the NSPI calls, NotificationWait). */
export function streamed(call: Call, c: MapiContext, log: Logger, startedAt: number, pendingPeriodMs: number): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | null = null;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(META.processing);
      timer = setInterval(() => {
        try {
          controller.enqueue(META.pending);
        } catch {
          stop(); // the client went away and the stream is closed
        }
      }, pendingPeriodMs);
      void runService(call, c, log).then((out) => {
        stop();
        try {
          controller.enqueue(finalChunk(out.code, startedAt, Date.now(), out.body));
          controller.close();
        } catch {
          // Cancelled meanwhile: nothing to write to.
        }
      });
    },
    cancel() {
      stop();
    },
  });
}

