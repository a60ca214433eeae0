/**
 * The Tasks class (MS-ASTASK): task lists are groupware collections of
 * kind "tasks" (VTODO), converted by ../groupware/task.ts. The default list
 * "Tasks" has FolderHierarchy Type 7, user-created lists Type 15
 * (MS-ASCMD §2.2.3.186.3).
 */
import { DEFAULT_NAMES } from "../../../../src/groupware/collections.ts";
import { taskCodec } from "../groupware/task.ts";
import { registerSyncClass } from "./classes.ts";
import { groupwareSyncClass } from "./groupware-class.ts";

export const tasksClass = groupwareSyncClass({
  className: "Tasks",
  itemClass: "tasks",
  defaultType: 7,
  userType: 15,
  isDefaultFolder: (folder) => folder.name === DEFAULT_NAMES.tasks,
  // MS-ASCMD §2.2.3.69.2: tasks take FilterType 0 (all) and 8 (incomplete tasks only). With 8 the cutoff is
  // "now" and an open task's date is the largest there is, a completed one's its completion time: only open
  // tasks (and ones completed in the future, which no device sends) pass.
  cutoff: (filterType, now) => (filterType === 0 ? null : filterType === 8 ? now : undefined),
  dateOf: (item) => {
    if (item.itemClass !== "tasks") return 0;
    const f = item.fields;
    if (f.completed !== null || (f.status ?? "").toUpperCase() === "COMPLETED") return f.completed ?? 0;
    return Number.MAX_SAFE_INTEGER;
  },
  codec: taskCodec,
});

registerSyncClass(tasksClass);
