/* Agent console: formatting and small views shared by the transcript, assist, tools and approvals. */
import { $, el } from "../shared/dom.js";

/** "42s", "3m 5s", "1h 2m". */
export function ago(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** The local time of an ISO timestamp (24 h). */
export function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || "") : d.toLocaleTimeString([], { hour12: false });
}

/** Put `err`'s message into the element `where` (null clears it). */
export function showError(where, err) {
  $(where).textContent = err ? err.message || String(err) : "";
}

export function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value, null, 2);
  return String(value);
}

export function short(value, max = 60) {
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function prettyJson(text) {
  try { return JSON.stringify(JSON.parse(text), null, 1); } catch (err) { return String(text); }
}

/** `role:user@tenant` → `user`. */
export function shortPrincipal(label) {
  const raw = String(label || "?");
  return raw.includes(":") ? raw.split(":").slice(1).join(":").replace(/@[^@]*$/, "") : raw;
}

/** The claiming agent's user id (the API may send `role:user@tenant` or the bare user id). */
export function claimedUser(item) {
  return item && item.claimed_by ? shortPrincipal(item.claimed_by) : "";
}

/** A <dl> of an object's keys and values (multi-line values in <pre>). */
export function keyValues(obj, className) {
  const dl = el("dl", { class: className || "kv" });
  for (const [key, value] of Object.entries(obj || {})) {
    const shown = formatValue(value);
    dl.append(el("dt", { text: key }), el("dd", {}, shown.includes("\n") ? el("pre", { text: shown }) : shown));
  }
  return dl;
}

/** The sources of an answer or draft, linked to their help-center articles. */
export function citationList(citations) {
  if (!Array.isArray(citations) || !citations.length) return null;
  return el("ul", { class: "citations", "aria-label": "Sources" }, citations.map((c) => {
    const id = typeof c === "string" ? c : c.id;
    const title = typeof c === "string" ? "" : c.title || "";
    const doc = String(id).split("#")[0];
    return el("li", {}, el("a", { href: `/help/${encodeURIComponent(doc)}`, target: "_blank", rel: "noopener" },
      el("cite", { text: title ? `${title} [${id}]` : id })));
  }));
}

/** A write as the server rendered it from the tool's spec: plain sentences (widget, console and approvals
    show the same text). Older records without sentences fall back to their one-line summary. */
export function sentencesView(sentences, fallback) {
  const list = Array.isArray(sentences) ? sentences.filter((s) => typeof s === "string" && s) : [];
  if (!list.length && !fallback) return null;
  return el("ul", { class: "sentences" }, (list.length ? list : [fallback]).map((text) => el("li", { text })));
}

