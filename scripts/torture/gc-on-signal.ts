/**
 * Loaded into an abuse run's server with `bun --preload` (scripts/torture/abuse-memory.ts):
 * SIGUSR2 asks for a full garbage collection, so the "after" memory figure of
 * an attack measures what the server still holds, not garbage not yet collected.
 * A diagnostic for the torture harness only; the server never relies on it.
 */
process.on("SIGUSR2", () => {
  Bun.gc(true);
});
