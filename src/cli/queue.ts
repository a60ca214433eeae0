/** `pillarbox queue list|retry|drop|flush`: the outbound queue (the worker runs inside `serve`). */
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { CliError, UsageError, formatBytes, withStore } from "./common.ts";

function queueId(v: string, command: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`not a queue id: ${JSON.stringify(v)}`, command);
  return Number(v);
}

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

export const queueCommands: Command[] = [
  {
    name: "queue list",
    usage: "",
    summary: "list outbound messages waiting for delivery",
    options: COMMON_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      await withStore(args, io, async (store) => {
        const entries = await store.listQueue();
        if (entries.length === 0) {
          io.out("queue is empty\n");
          return;
        }
        for (const e of entries) {
          io.out(`${e.id}  from <${e.sender}>  ${formatBytes(e.size)}  queued ${when(e.createdAt)}  attempts ${e.attempts}  next ${when(e.nextAttemptAt)}\n`);
          for (const r of e.recipients) io.out(`    ${r.status.padEnd(7)} ${r.address}${r.lastError ? `  (${r.lastError})` : ""}\n`);
          if (e.lastError) io.out(`    last error: ${e.lastError}\n`);
        }
      });
    },
  },
  {
    name: "queue retry",
    usage: "ID",
    summary: "retry one queued message now",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const id = queueId(args.positionals[0]!, "queue retry");
      await withStore(args, io, async (store) => {
        if (!(await store.getQueueEntry(id))) throw new CliError(`no queued message ${id}`);
        await store.updateQueueEntry(id, { nextAttemptAt: Date.now(), lockedUntil: null });
        io.out(`queued message ${id} will be retried now\n`);
      });
    },
  },
  {
    name: "queue drop",
    usage: "ID",
    summary: "delete one queued message without delivering it (no bounce is sent)",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const id = queueId(args.positionals[0]!, "queue drop");
      await withStore(args, io, async (store) => {
        if (!(await store.getQueueEntry(id))) throw new CliError(`no queued message ${id}`);
        await store.removeQueueEntry(id);
        io.out(`dropped queued message ${id}\n`);
      });
    },
  },
  {
    name: "queue flush",
    usage: "",
    summary: "retry every queued message now",
    options: COMMON_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      await withStore(args, io, async (store) => {
        const entries = await store.listQueue();
        const now = Date.now();
        for (const e of entries) await store.updateQueueEntry(e.id, { nextAttemptAt: now });
        io.out(`${entries.length} queued message${entries.length === 1 ? "" : "s"} scheduled for immediate retry\n`);
      });
    },
  },
];
