/** #/devices: every account's ActiveSync devices; wipe (after a confirmation) or remove one. */
import type { DeviceView } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { api, seg } from "./api.ts";
import type { Page } from "./page.ts";
import { act, ago, badge, button, confirmDialog, heading, table } from "./ui.ts";

export const DEVICE_HEADERS = (): string[] => [
  t("admin.devices.account"),
  t("admin.devices.device"),
  t("admin.devices.type"),
  t("admin.devices.lastSeen"),
  t("admin.access.ip"),
  t("admin.devices.wipe"),
  t("admin.actions"),
];

/** Words for the wipe life cycle (storage/eas-store.ts WipeStatus; MS-ASPROV remote wipe: requested, sent, acknowledged). */
function wipeState(status: string): HTMLElement {
  if (status === "none" || status === "") return badge("ok", t("admin.devices.wipe.none"));
  if (status === "requested" || status === "account-requested") return badge("warn", t("admin.devices.wipe.requested"));
  if (status === "pending" || status === "account-pending") return badge("warn", t("admin.devices.wipe.pending"));
  if (status === "wiped") return badge("bad", t("admin.devices.wipe.done"));
  return badge("info", status);
}

export function deviceRows(devices: DeviceView[], reload: () => void): (Node | string)[][] {
  return devices.map((d) => {
    const path = `/admin/api/devices/${seg(d.account)}/${seg(d.deviceId)}`;
    const label = d.model ? `${d.model} (${d.deviceId})` : d.deviceId;
    const wipe: HTMLButtonElement = button(
      t("admin.devices.wipeAction"),
      async () => {
        const yes = await confirmDialog({ title: t("admin.devices.wipeTitle"), text: t("admin.devices.wipeText", { device: label, account: d.account }), confirm: t("admin.devices.wipeAction"), danger: true });
        if (yes && (await act(wipe, () => api("POST", `${path}/wipe`), t("admin.devices.wipeRequested", { device: label })))) reload();
      },
      "btn btn-small btn-danger",
      { "aria-label": t("admin.devices.wipeNamed", { device: label }) },
    );
    const remove: HTMLButtonElement = button(
      t("admin.remove"),
      async () => {
        const yes = await confirmDialog({ title: t("admin.devices.removeTitle"), text: t("admin.devices.removeText", { device: label, account: d.account }), confirm: t("admin.remove"), danger: true });
        if (yes && (await act(remove, () => api("DELETE", path), t("admin.devices.removed", { device: label })))) reload();
      },
      "btn btn-small",
      { "aria-label": t("admin.devices.removeNamed", { device: label }) },
    );
    return [
      d.account,
      h("span", { class: "device" }, h("strong", null, d.model ?? d.deviceId), h("br"), h("code", { class: "wrap" }, d.deviceId), d.userAgent ? h("span", { class: "muted ua" }, " ", d.userAgent) : null),
      d.deviceType,
      ago(d.lastSeenAt),
      d.lastIp ?? "—",
      wipeState(d.wipeStatus),
      h("div", { class: "row-actions" }, wipe, remove),
    ];
  });
}

export const devicesPage: Page = async (root, ctx) => {
  const devices = await api<DeviceView[]>("GET", "/admin/api/devices");
  if (ctx.stale()) return;
  clear(root);
  root.append(heading(t("admin.nav.devices"), button(t("admin.refresh"), () => ctx.reload())), table(t("admin.nav.devices"), DEVICE_HEADERS(), deviceRows(devices, ctx.reload), t("admin.devices.empty")));
};
