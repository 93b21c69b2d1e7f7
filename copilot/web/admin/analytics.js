/* Admin console: analytics — GET /v1/analytics/series for a tenant (the platform admin picks one, or every
   tenant) and a period, as headline numbers, charts over time and, beside each chart, the same numbers as a
   table (for screen readers and for copying). */
import { $, el } from "../shared/dom.js";
import { api } from "./api.js";
import { COLORS, drawChart } from "./charts.js";
import { state } from "./state.js";

const HOUR = 3600 * 1000;
const PRESETS = { "24h": [24 * HOUR, "hour"], "7d": [7 * 24 * HOUR, "day"], "30d": [30 * 24 * HOUR, "day"] };
const OUTCOMES = [["confirmed", "Confirmed", "#19a06b"], ["assumed", "Assumed", "#7fc8a9"],
  ["handed_off", "Handed off", "#d9822b"], ["unresolved", "Unresolved", "#b3261e"], ["pending", "Pending", "#8a8f99"]];
let drawn = [];

const count = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("en-US"));
const usd = (v) => (v === null || v === undefined ? "—" : `$${Number(v).toFixed(v > 0 && v < 0.01 ? 4 : 2)}`);
const seconds = (v) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(2)} s`);
const pick = (points, key) => points.map((p) => p[key]);

/** Each chart: what it plots from the buckets (and the period's total). */
const CHARTS = [
  { id: "turns", title: "Turns", units: { y: "count" }, format: count,
    lines: (b) => [{ label: "Turns", values: pick(b, "turns"), kind: "bars" }] },
  { id: "latency", title: "p95 turn latency", units: { y: "s" }, format: seconds,
    lines: (b) => [{ label: "p95 latency", values: pick(b, "latency_p95_seconds"), color: "#7b4fc9" }] },
  { id: "resolution", title: "Outcomes of the conversations started", units: { y: "count" }, format: count,
    lines: (b) => OUTCOMES.map(([key, label, color]) => ({ label, values: pick(b, key), color })) },
  { id: "handoffs", title: "Handoffs by reason", units: { y: "count" }, format: count,
    lines: (b, total) => {
      const reasons = Object.keys(total.handoffs_by_reason);
      if (!reasons.length) return [{ label: "Handoffs", values: pick(b, "handoffs"), color: "#d9822b" }];
      return reasons.map((r, i) => ({ label: r, values: b.map((p) => p.handoffs_by_reason[r] || 0), color: COLORS[(i + 2) % COLORS.length] }));
    } },
  { id: "denials", title: "Tool denials", units: { y: "count" }, format: count,
    lines: (b) => [{ label: "Denials", values: pick(b, "denials"), kind: "bars", color: "#b3261e" }] },
  { id: "cost", title: "Model cost and cost per resolved conversation", units: { y: "usd", y2: "usd" }, format: usd,
    lines: (b) => [{ label: "Cost", values: pick(b, "cost_usd"), kind: "bars", color: "#0f8fa8" },
      { label: "Per resolved conversation", values: pick(b, "cost_per_resolved_usd"), scale: "y2", color: "#2456c7" }] },
  { id: "feedback", title: "Customer feedback", units: { y: "count" }, format: count,
    lines: (b) => [{ label: "Thumbs up", values: pick(b, "feedback_up"), color: "#19a06b" },
      { label: "Thumbs down", values: pick(b, "feedback_down"), color: "#b3261e" }] },
];

/** Fill the tenant filter: the admin's own tenant, or (platform admin) every tenant. */
export async function initAnalytics() {
  const select = $("an-tenant");
  if (state.me.role !== "platform") {
    select.replaceChildren(el("option", { value: state.me.tenant, text: state.me.tenant }));
    select.disabled = true;
    return;
  }
  const { data } = await api("GET", "/v1/tenants");
  select.disabled = false;
  select.replaceChildren(el("option", { value: "", text: "All tenants" }),
    ...data.tenants.map((t) => el("option", { value: t.tenant, text: t.name && t.name !== t.tenant ? `${t.tenant} — ${t.name}` : t.tenant })));
}

export function wireAnalytics() {
  $("an-filter").addEventListener("submit", (event) => { event.preventDefault(); loadAnalytics(); });
  $("an-period").addEventListener("change", () => {
    const custom = $("an-period").value === "custom";
    $("an-custom").hidden = !custom;
    if (custom && !$("an-since").value) {
      const now = new Date();
      $("an-until").value = localUtc(now);
      $("an-since").value = localUtc(new Date(now.getTime() - 24 * HOUR));
    }
  });
}

const localUtc = (d) => d.toISOString().slice(0, 16);

function query() {
  const params = new URLSearchParams();
  const tenant = $("an-tenant").value;
  if (state.me.role === "platform" && tenant) params.set("tenant", tenant);
  const preset = PRESETS[$("an-period").value];
  if (preset) {
    const now = Date.now();
    params.set("since", new Date(now - preset[0]).toISOString());
    params.set("until", new Date(now).toISOString());
    params.set("bucket", preset[1]);
  } else {
    params.set("since", `${$("an-since").value}Z`);
    params.set("until", `${$("an-until").value}Z`);
    params.set("bucket", $("an-bucket").value);
  }
  return params;
}

export async function loadAnalytics() {
  $("an-error").textContent = "";
  $("an-status").textContent = "Loading…";
  try {
    const { data } = await api("GET", `/v1/analytics/series?${query()}`);
    render(data);
  } catch (exc) {
    $("an-error").textContent = exc.message;
    $("an-status").textContent = "";
  }
}

function bucketLabel(iso, bucket) {
  const text = new Date(iso).toISOString();
  return bucket === "day" ? text.slice(0, 10) : `${text.slice(0, 10)} ${text.slice(11, 16)}`;
}

function render(data) {
  const span = `${bucketLabel(data.since, data.bucket)} – ${bucketLabel(data.until, data.bucket)} UTC, by ${data.bucket}`;
  $("an-status").textContent = `${data.tenant === null ? "All tenants" : `Tenant ${data.tenant}`} · ${span}`;
  $("an-status").dataset.since = data.since;
  renderTiles(data.total);
  for (const chart of drawn) chart.destroy();
  drawn = [];
  const starts = data.buckets.map((p) => new Date(p.start));
  const labels = data.buckets.map((p) => bucketLabel(p.start, data.bucket));
  $("an-charts").replaceChildren(...CHARTS.map((spec) => figure(spec, data, labels)));
  for (const spec of CHARTS) drawn.push(drawChart($(`chart-${spec.id}`), starts, data.bucket, spec.lines(data.buckets, data.total), spec.units));
}

function renderTiles(t) {
  const rated = t.feedback_up + t.feedback_down;
  const tiles = [
    ["turns", "Turns", count(t.turns), t.turns],
    ["latency_p95_seconds", "p95 turn latency", seconds(t.latency_p95_seconds), t.latency_p95_seconds],
    ["resolved", "Resolved conversations", `${count(t.resolved)} of ${count(t.conversations)}`, t.resolved,
      `${t.confirmed} confirmed · ${t.assumed} assumed · ${t.pending} pending`],
    ["handoffs", "Handoffs", count(t.handoffs), t.handoffs],
    ["denials", "Tool denials", count(t.denials), t.denials],
    ["cost_usd", "Model cost", usd(t.cost_usd), t.cost_usd, `${count(t.model_calls)} calls`],
    ["cost_per_resolved_usd", "Cost per resolved conversation", usd(t.cost_per_resolved_usd), t.cost_per_resolved_usd],
    ["feedback", "Feedback (up · down)", `${t.feedback_up} · ${t.feedback_down}`, rated,
      rated ? `${Math.round((100 * t.feedback_up) / rated)}% positive` : "no ratings"],
  ];
  $("an-tiles").replaceChildren(...tiles.map(([key, label, text, value, note]) =>
    el("div", { class: "tile", "data-metric": key, "data-value": value === null ? "" : String(value) },
      el("span", { class: "tile-label", text: label }), el("strong", { class: "tile-value", text }),
      note ? el("span", { class: "tile-note muted small", text: note }) : null)));
}

function figure(spec, data, labels) {
  const lines = spec.lines(data.buckets, data.total);
  const head = el("tr", {}, el("th", { scope: "col", text: "Bucket (UTC)" }), lines.map((l) => el("th", { scope: "col", text: l.label })));
  const rows = labels.map((label, i) => el("tr", {}, el("th", { scope: "row", class: "nowrap", text: label }),
    lines.map((l) => el("td", { "data-value": l.values[i] === null ? "" : String(l.values[i]), text: spec.format(l.values[i]) }))));
  return el("figure", { class: "card chart-card", id: `fig-${spec.id}`, "aria-labelledby": `title-${spec.id}` },
    el("h3", { id: `title-${spec.id}`, text: spec.title }),
    el("div", { class: "chart", id: `chart-${spec.id}`, role: "img", "aria-label": `${spec.title}: chart; the table below has the numbers` }),
    el("details", { class: "table-view" }, el("summary", { text: "Table" }),
      el("div", { class: "table-wrap" }, el("table", { class: "log", id: `table-${spec.id}` },
        el("caption", { class: "sr-only", text: `${spec.title} per bucket` }), el("thead", {}, head), el("tbody", {}, rows)))));
}
