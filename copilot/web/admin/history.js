/* Policy admin: version history with per-version rule diffs and rollback (as a new version). */
import { $, el, toast } from "../shared/dom.js";
import { api } from "./api.js";
import { loadAudit, loadChanges } from "./audit.js";
import { resetDraft } from "./editor.js";
import { refused } from "./publish.js";
import { loadPolicy } from "./roles.js";
import { ruleText, state, when } from "./state.js";

/** Reload everything derived from the version log: history, policy changes, audit. */
export function refreshAll() {
  loadHistory();
  loadChanges();
  loadAudit();
}

/** A rule diff ({added, removed}) as a list, marked for screen readers. */
export function diffList(diff) {
  const items = [
    ...(diff.added || []).map((r) => el("li", { class: "added" }, el("span", { class: "sr-only", text: "added " }), "+ ", ruleText(r))),
    ...(diff.removed || []).map((r) => el("li", { class: "removed" }, el("span", { class: "sr-only", text: "removed " }), "− ", ruleText(r))),
  ];
  return items.length ? el("ul", { class: "rule-diff" }, items) : el("p", { class: "muted small", text: "No rule changes." });
}

export function diffCount(diff) { return `+${(diff.added || []).length} −${(diff.removed || []).length}`; }

export async function loadHistory() {
  $("history-error").textContent = "";
  try {
    const { data } = await api("GET", "/v1/policy/versions?limit=50");
    $("history-list").replaceChildren(...data.versions.map((v) => historyItem(v, data.active)));
  } catch (exc) {
    $("history-error").textContent = exc.message;
  }
}

function historyItem(v, active) {
  const isActive = v.version === active;
  const out = el("div", { class: "rollback-out", role: "alert" });
  return el("li", { class: `card version${isActive ? " active" : ""}`, id: `version-${v.version}` },
    el("div", { class: "version-head" },
      el("h3", { class: "vnum", text: `Version ${v.version}` }),
      el("span", { class: `pill ${v.kind}`, text: v.rollback_of ? `rollback of v${v.rollback_of}` : v.kind }),
      isActive ? el("span", { class: "pill active", text: "active" }) : null,
      el("span", { class: "muted small", text: `${when(v.created_at)} · ${v.author}` }),
      el("span", { class: "spacer" }),
      isActive ? null : el("button", { type: "button", class: "small", text: `Roll back to version ${v.version}`,
        onclick: () => confirmRollback(v, out) })),
    el("p", { class: "message", text: v.message }),
    el("details", {}, el("summary", { text: `Diff vs parent (${diffCount(v.diff)})` }), diffList(v.diff)),
    out);
}

function confirmRollback(v, out) {
  const input = el("input", { type: "text", value: `rollback to version ${v.version}`, "aria-label": "Rollback message" });
  const go = el("button", { type: "button", class: "primary small", text: "Confirm rollback", onclick: () => rollback(v, input.value, out) });
  out.replaceChildren(el("div", { class: "confirm" },
    el("p", { text: `Make version ${v.version}'s rules active again (as a new version)?` }), input, go,
    el("button", { type: "button", class: "small ghost", text: "Cancel", onclick: () => out.replaceChildren() })));
  go.focus();
}

async function rollback(v, message, out) {
  try {
    const { data } = await api("POST", "/v1/policy/rollback",
      { version: v.version, message: message.trim() || null, acknowledge: [...state.ack] }, { "If-Match": state.etag });
    await loadPolicy();
    resetDraft();
    toast(`Rolled back: version ${data.version} has version ${v.version}'s rules`);
    refreshAll();
  } catch (exc) {
    refused(out, exc);
    if (exc.details.warnings) {
      out.append(el("button", { type: "button", class: "small", text: "Try again", onclick: () => rollback(v, message, out) }));
    }
  }
}
