/**
 * /api/tasks...: the webmail task lists over the groupware core (VTODO
 * objects of "tasks" collections, the same CalDAV clients sync). Completing
 * a recurring task stores the done occurrence and moves the task to its next
 * one (src/groupware/model/task.ts completeOccurrence).
 */
import type { Hono } from "hono";
import type ICAL from "ical.js";
import type { ServerContext } from "../../../src/context.ts";
import type { Collection, StoredObject } from "../../../src/groupware/types.ts";
import { serialize } from "../../../src/groupware/ical/index.ts";
import { floatingZone } from "../../../src/groupware/ical/zones.ts";
import { checkTaskData, completeOccurrence, isRecurringTask, mergeTask, taskFromObject } from "../../../src/groupware/model/task.ts";
import { dateStartMs, parseWall, wallToMs, zoneOf } from "../../../src/groupware/model/time.ts";
import type { TaskData, TaskSummary } from "../../../src/groupware/model/types.ts";
import type { AppEnv } from "../types.ts";
import type { TaskResponse, TaskWrite } from "./api-types.ts";
import { checkEtag, guarded, newResourceName, ownCollection, ownObject, readRoot, userZoneOf } from "./groupware-util.ts";
import { ApiError, readJson } from "./util.ts";

/** Tasks in one list answer (a list is a page of work, not an archive). */
export const MAX_TASKS = 5000;

function bodyOf(root: ICAL.Component): Uint8Array {
  return new TextEncoder().encode(serialize(root));
}

/** Due as UTC ms: a date is its midnight in the user's zone; a floating time is read there too. */
export function dueAt(t: TaskData, userZone: string): number | null {
  if (!t.due) return null;
  if (t.due.length === 10) return dateStartMs(t.due, floatingZone(userZone));
  return wallToMs(parseWall(t.due), zoneOf(t.timeZone || userZone) ?? floatingZone(userZone));
}

async function response(ctx: ServerContext, list: Collection, object: StoredObject, zone: string): Promise<TaskResponse> {
  return { list: list.name, id: object.resourceName, etag: object.etag, task: taskFromObject(await readRoot(ctx, object), zone) };
}

function taskWrite(body: unknown): { data: TaskData; etag: string | undefined } {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "bad_request", "The request must be an object with a task.");
  const b = body as Partial<Record<keyof TaskWrite, unknown>>;
  if (b.etag !== undefined && typeof b.etag !== "string") throw new ApiError(400, "bad_request", "etag must be text.");
  return { data: checkTaskData(b.task), etag: b.etag as string | undefined };
}

export function mountTasksApi(app: Hono<AppEnv>, deps: { ctx: ServerContext }): void {
  const { ctx } = deps;
  const gw = ctx.groupware;

  app.get("/api/tasks", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const zone = userZoneOf(a);
      await gw.ensureDefaults(a);
      const name = c.req.query("list");
      const lists = name ? [await ownCollection(ctx, a, name, "tasks")] : await gw.listCollections(a, "tasks");
      const withDone = c.req.query("completed") === "1";
      const tasks: TaskSummary[] = [];
      for (const list of lists) {
        for (const object of await gw.listObjects(list)) {
          if (tasks.length >= MAX_TASKS) break;
          let t: TaskData;
          try {
            t = taskFromObject(await readRoot(ctx, object), zone);
          } catch {
            continue; // a to-do a client stored that we cannot read is left out of the list, not the whole list
          }
          if (!withDone && (t.status === "COMPLETED" || t.status === "CANCELLED")) continue;
          let due: number | null = null;
          try {
            due = dueAt(t, zone);
          } catch {
            due = null;
          }
          tasks.push({ ...t, list: list.name, id: object.resourceName, etag: object.etag, dueAt: due });
        }
      }
      // Open first, then by due (none last), priority (1 highest; 0 = none last), title.
      const prio = (p: number) => (p === 0 ? 10 : p);
      tasks.sort(
        (x, y) =>
          Number(x.status === "COMPLETED") - Number(y.status === "COMPLETED") ||
          (x.dueAt ?? Number.MAX_SAFE_INTEGER) - (y.dueAt ?? Number.MAX_SAFE_INTEGER) ||
          prio(x.priority) - prio(y.priority) ||
          x.title.localeCompare(y.title),
      );
      c.header("cache-control", "no-store");
      return c.json({ tasks });
    }),
  );

  app.get("/api/tasks/:list/:id", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const list = await ownCollection(ctx, a, c.req.param("list"), "tasks");
      const object = await ownObject(ctx, list, c.req.param("id"));
      c.header("cache-control", "no-store");
      return c.json(await response(ctx, list, object, userZoneOf(a)));
    }),
  );

  app.post("/api/tasks/:list", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const zone = userZoneOf(a);
      const list = await ownCollection(ctx, a, c.req.param("list"), "tasks");
      const { data } = taskWrite(await readJson(c));
      const root = mergeTask(null, { ...data, uid: "" }, { userZone: zone });
      const { object } = await gw.putObject(list, newResourceName(), bodyOf(root), { ifNoneMatch: "*", actor: a });
      return c.json(await response(ctx, list, object, zone), 201);
    }),
  );

  app.put("/api/tasks/:list/:id", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const zone = userZoneOf(a);
      const list = await ownCollection(ctx, a, c.req.param("list"), "tasks");
      const object = await ownObject(ctx, list, c.req.param("id"));
      const { data, etag } = taskWrite(await readJson(c));
      checkEtag(object, etag);
      const stored = await readRoot(ctx, object);
      const wasDone = taskFromObject(stored, zone).status === "COMPLETED";
      const completing = data.status === "COMPLETED" && !wasDone && isRecurringTask(stored);
      if (!completing) {
        const root = mergeTask(stored, data, { userZone: zone });
        const { object: put } = await gw.putObject(list, object.resourceName, bodyOf(root), { ifMatch: object.etag, actor: a });
        return c.json(await response(ctx, list, put, zone));
      }
      // The other edits first (the task still open), then the occurrence is completed.
      const edited = mergeTask(stored, { ...data, status: "NEEDS-ACTION", percent: 0, completed: null }, { userZone: zone });
      const { done, series } = completeOccurrence(edited);
      if (!series) {
        // The last occurrence: the task itself is done.
        const root = mergeTask(stored, data, { userZone: zone });
        const { object: put } = await gw.putObject(list, object.resourceName, bodyOf(root), { ifMatch: object.etag, actor: a });
        return c.json(await response(ctx, list, put, zone));
      }
      await gw.putObject(list, newResourceName(), bodyOf(done), { ifNoneMatch: "*", actor: a });
      const { object: put } = await gw.putObject(list, object.resourceName, bodyOf(series), { ifMatch: object.etag, actor: a });
      return c.json(await response(ctx, list, put, zone));
    }),
  );

  app.delete("/api/tasks/:list/:id", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const list = await ownCollection(ctx, a, c.req.param("list"), "tasks");
      const object = await ownObject(ctx, list, c.req.param("id"));
      checkEtag(object, c.req.query("etag"));
      await gw.deleteObject(list, object.resourceName, { ifMatch: object.etag, actor: a });
      return c.json({ ok: true });
    }),
  );
}
