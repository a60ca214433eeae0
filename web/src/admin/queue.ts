/** #/queue: the outbound queue — what waits, why, and when it is tried next; retry now, or drop (after a confirmation). */
import type { QueueView } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatNumber, t, tn } from "../i18n/index.ts";
import { api } from "./api.ts";
import type { Page } from "./page.ts";
import { act, ago, button, bytes, confirmDialog, heading, table, when } from "./ui.ts";

export const queuePage: Page = async (root, ctx) => {
  const queue = await api<QueueView[]>("GET", "/admin/api/queue");
  if (ctx.stale()) return;
  clear(root);
  root.append(
    heading(t("admin.nav.queue"), button(t("admin.refresh"), () => ctx.reload())),
    h("p", { class: "muted" }, tn("admin.queue.count", queue.length)),
    table(
      t("admin.nav.queue"),
      [t("admin.queue.id"), t("admin.queue.sender"), t("admin.queue.recipients"), t("admin.queue.size"), t("admin.queue.queued"), t("admin.queue.attempts"), t("admin.queue.next"), t("admin.queue.lastError"), t("admin.actions")],
      queue.map((q) => {
        const retry: HTMLButtonElement = button(
          t("admin.queue.retry"),
          () => void act(retry, () => api("POST", `/admin/api/queue/${q.id}/retry`), t("admin.queue.retried", { id: q.id })).then((ok) => ok && ctx.reload()),
          "btn btn-small",
          { "aria-label": t("admin.queue.retryNamed", { id: q.id }) },
        );
        const drop: HTMLButtonElement = button(
          t("admin.queue.drop"),
          async () => {
            const yes = await confirmDialog({ title: t("admin.queue.dropTitle"), text: t("admin.queue.dropText", { id: q.id, sender: q.sender || "<>", n: q.recipients.length }), confirm: t("admin.queue.drop"), danger: true });
            if (yes && (await act(drop, () => api("DELETE", `/admin/api/queue/${q.id}`), t("admin.queue.dropped", { id: q.id })))) ctx.reload();
          },
          "btn btn-small btn-danger",
          { "aria-label": t("admin.queue.dropNamed", { id: q.id }) },
        );
        return [
          String(q.id),
          h("code", { class: "wrap" }, q.sender || "<>"),
          h("ul", { class: "plain" }, q.recipients.map((r) => h("li", null, h("code", { class: "wrap" }, r)))),
          bytes(q.size),
          when(q.createdAt),
          formatNumber(q.attempts),
          ago(q.nextAttemptAt),
          q.lastError ? h("span", { class: "error-text" }, q.lastError) : "—",
          h("div", { class: "row-actions" }, retry, drop),
        ];
      }),
      t("admin.queue.empty"),
    ),
  );
};
