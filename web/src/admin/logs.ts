/**
 * #/logs: the activity log (deliveries, rejections, logins, failed logins, outbound attempts, admin
 * actions), newest first; filter by kind, text and time range; optional auto-refresh every 5 s.
 */
import type { ActivityEntry, ActivityKind, LogsResponse } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatDate, t, tn } from "../i18n/index.ts";
import { api } from "./api.ts";
import type { Page } from "./page.ts";
import { badge, errorText, heading, table, type Tone } from "./ui.ts";

const KINDS: ActivityKind[] = ["delivery", "rejection", "login", "login-failed", "outbound", "admin", "system"];
const RANGES: { key: string; ms: number | null }[] = [
  { key: "15m", ms: 15 * 60_000 },
  { key: "1h", ms: 3600_000 },
  { key: "24h", ms: 24 * 3600_000 },
  { key: "7d", ms: 7 * 24 * 3600_000 },
  { key: "all", ms: null },
];
const REFRESH_MS = 5000;
/** Filters survive leaving the page and coming back within the session. */
const state = { kinds: new Set<ActivityKind>(), text: "", range: "24h", auto: false };

function tone(e: ActivityEntry): Tone {
  if (e.level === "error" || e.kind === "rejection" || e.kind === "login-failed") return "bad";
  if (e.level === "warn") return "warn";
  return e.kind === "delivery" || e.kind === "login" ? "ok" : "info";
}

/** The remaining fields as "key=value" pairs, compact. */
function details(fields: ActivityEntry["fields"]): HTMLElement {
  return h(
    "span",
    { class: "fields" },
    Object.entries(fields).map(([k, v]) => h("span", { class: "kv" }, h("span", { class: "k" }, k), "=", h("span", { class: "v" }, v === null ? "—" : String(v)))),
  );
}

export const logsPage: Page = async (root, ctx) => {
  clear(root);
  const boxes = KINDS.map((k) => {
    const box = h("input", { type: "checkbox", name: "kind", value: k, id: `kind-${k}` });
    box.checked = state.kinds.has(k);
    return h("span", { class: "check" }, box, h("label", { for: `kind-${k}` }, t(`admin.logs.kind.${k}`)));
  });
  const text = h("input", { type: "search", class: "input", id: "logs-text", value: state.text, autocomplete: "off" });
  const range = h("select", { id: "logs-range", class: "input" }, RANGES.map((r) => h("option", { value: r.key, selected: r.key === state.range }, t(`admin.logs.range.${r.key}`))));
  const auto = h("input", { type: "checkbox", id: "logs-auto" });
  auto.checked = state.auto;
  const status = h("p", { class: "muted", role: "status" });
  const holder = h("div", { class: "logs" });
  const form = h(
    "form",
    { class: "filters", "aria-label": t("admin.logs.filters") },
    h("fieldset", { class: "kinds" }, h("legend", null, t("admin.logs.kinds")), boxes),
    h("div", { class: "field" }, h("label", { for: "logs-text" }, t("admin.logs.text")), text),
    h("div", { class: "field" }, h("label", { for: "logs-range" }, t("admin.logs.range")), range),
    h("span", { class: "check" }, auto, h("label", { for: "logs-auto" }, t("admin.logs.auto"))),
  );
  root.append(heading(t("admin.nav.logs")), form, status, holder);

  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    state.kinds = new Set(KINDS.filter((k) => (form.querySelector(`#kind-${k}`) as HTMLInputElement).checked));
    state.text = text.value.trim();
    state.range = range.value;
    const q = new URLSearchParams();
    if (state.kinds.size) q.set("kind", [...state.kinds].join(","));
    if (state.text) q.set("q", state.text);
    const ms = RANGES.find((r) => r.key === state.range)?.ms;
    if (ms) q.set("since", String(Date.now() - ms));
    q.set("limit", "200");
    try {
      const res = await api<LogsResponse>("GET", `/admin/api/logs?${q}`);
      if (mine !== seq || ctx.stale()) return;
      status.textContent = tn("admin.logs.shown", res.entries.length);
      clear(holder);
      holder.append(
        table(
          t("admin.nav.logs"),
          [t("admin.logs.time"), t("admin.logs.kind"), t("admin.logs.protocol"), t("admin.logs.account"), t("admin.logs.ip"), t("admin.logs.message")],
          res.entries.map((e) => [
            h("time", { datetime: new Date(e.ts).toISOString() }, formatDate(e.ts, { dateStyle: "short", timeStyle: "medium" })),
            badge(tone(e), t(`admin.logs.kind.${e.kind}`)),
            e.protocol ?? "—",
            e.account ?? "—",
            e.ip ?? "—",
            h("div", { class: "log-msg" }, h("span", { class: "msg" }, e.msg), " ", details(e.fields)),
          ]),
          t("admin.logs.empty"),
        ),
      );
      document.body.dataset.logsLoaded = String(Date.now());
    } catch (err) {
      if (mine === seq) status.textContent = errorText(err);
    }
  };
  let typing: ReturnType<typeof setTimeout> | undefined;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void load();
  });
  form.addEventListener("change", (e) => {
    if (e.target === auto) return setAuto();
    void load();
  });
  text.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => void load(), 300);
  });
  let timer: ReturnType<typeof setInterval> | undefined;
  const setAuto = () => {
    state.auto = auto.checked;
    clearInterval(timer);
    // A hidden tab does not poll; it catches up on the next tick once shown.
    timer = state.auto ? setInterval(() => void (document.hidden ? null : load()), REFRESH_MS) : undefined;
  };
  setAuto();
  await load();
  return () => {
    clearInterval(timer);
    clearTimeout(typing);
  };
};
