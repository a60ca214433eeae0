/**
 * The access view of one account (#/accounts/<email>): its webmail sessions (end one), its app
 * passwords (revoke one: that device's next login fails) and its ActiveSync devices (wipe, remove).
 */
import type { AccountAccess } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { api, seg } from "./api.ts";
import type { PageContext } from "./page.ts";
import { deviceRows, DEVICE_HEADERS } from "./devices.ts";
import { act, ago, button, confirmDialog, section, table, when } from "./ui.ts";

export async function accessSections(holder: HTMLElement, email: string, ctx: PageContext): Promise<void> {
  const access = await api<AccountAccess>("GET", `/admin/api/accounts/${seg(email)}/access`);
  if (ctx.stale()) return;
  clear(holder);
  const base = `/admin/api/accounts/${seg(email)}`;
  holder.append(
    section(
      t("admin.access.sessions"),
      table(
        t("admin.access.sessions"),
        [t("admin.access.started"), t("admin.access.lastSeen"), t("admin.access.ip"), t("admin.access.browser"), t("admin.actions")],
        access.sessions.map((s) => {
          const end: HTMLButtonElement = button(t("admin.access.endSession"), () => {
            void act(end, () => api("DELETE", `${base}/sessions/${seg(s.id)}`), t("admin.access.sessionEnded")).then((ok) => ok && ctx.reload());
          }, "btn btn-small btn-danger");
          return [when(s.createdAt), ago(s.lastSeenAt), s.ip ?? "—", h("span", { class: "ua" }, s.userAgent ?? "—"), end];
        }),
        t("admin.access.noSessions"),
      ),
    ),
    section(
      t("admin.access.appPasswords"),
      table(
        t("admin.access.appPasswords"),
        [t("admin.access.name"), t("admin.access.created"), t("admin.access.lastUsed"), t("admin.actions")],
        access.appPasswords.map((p) => {
          const revoke: HTMLButtonElement = button(
            t("admin.access.revoke"),
            async () => {
              const yes = await confirmDialog({ title: t("admin.access.revokeTitle"), text: t("admin.access.revokeText", { name: p.name, email }), confirm: t("admin.access.revoke"), danger: true });
              if (yes && (await act(revoke, () => api("DELETE", `${base}/app-passwords/${p.id}`), t("admin.access.revoked", { name: p.name })))) ctx.reload();
            },
            "btn btn-small btn-danger",
            { "aria-label": t("admin.access.revokeNamed", { name: p.name }) },
          );
          const used = p.lastUsedAt ? h("span", null, ago(p.lastUsedAt), p.lastUsedProtocol ? ` (${p.lastUsedProtocol})` : "") : t("admin.never");
          return [p.name, when(p.createdAt), used, revoke];
        }),
        t("admin.access.noAppPasswords"),
      ),
    ),
    section(t("admin.access.devices"), table(t("admin.access.devices"), DEVICE_HEADERS().slice(1), deviceRows(access.devices, ctx.reload).map((r) => r.slice(1)), t("admin.devices.empty"))),
  );
}
