/* Agent console: the handoff queue (polled), filtered by status and team, longest wait first. */
import { $, el } from "../shared/dom.js";
import { api, listOf } from "./api.js";
import { renderState, select } from "./conversation.js";
import { state } from "./state.js";
import { ago, claimedUser, clock } from "./views.js";

/** Reload the queue (GET /v1/handoffs) and re-render it and the open conversation's state. */
export async function refreshQueue() {
  if (!state.token) return;
  const team = $("queue-team").value;
  const query = new URLSearchParams({ status: "all" });
  if (team) query.set("team", team);
  try {
    const data = await api("GET", `/v1/handoffs?${query}`);
    const items = listOf(data, "handoffs");
    state.items = new Map(items.map((item) => [item.conversation_id, item]));
    renderQueue(items);
    $("queue-status-line").textContent = `Updated ${clock(new Date().toISOString())}`;
    if (state.selected) renderState();
  } catch (err) {
    $("queue-status-line").textContent = `Queue unavailable: ${err.message}`;
  }
}

function renderTeams(items) {
  const select = $("queue-team");
  const known = new Set([...select.options].map((o) => o.value));
  for (const team of new Set(items.map((i) => i.team).filter(Boolean))) {
    if (!known.has(team)) select.append(el("option", { value: team, text: team }));
  }
}

function renderQueue(items) {
  renderTeams(items);
  const filter = $("queue-status").value;
  const shown = items
    .filter((i) => (filter === "open" ? i.status !== "closed" : i.status === filter))
    .sort((a, b) => (b.waiting_seconds || 0) - (a.waiting_seconds || 0));
  $("queue-count").textContent = String(items.filter((i) => i.status === "waiting").length);
  const list = $("queue-list");
  const focused = document.activeElement && document.activeElement.dataset.conversation;
  list.replaceChildren(...shown.map(queueRow));
  if (!shown.length) list.append(el("li", { class: "muted empty-row", text: "No conversations here." }));
  if (focused) {
    const again = list.querySelector(`[data-conversation="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function queueRow(item) {
  const summary = item.summary || {};
  const selected = item.conversation_id === state.selected;
  const who = item.status === "claimed" ? `claimed by ${claimedUser(item) || "?"}` : item.status;
  return el("li", {},
    el("button", {
      type: "button", class: `queue-item${selected ? " selected" : ""}`, "data-conversation": item.conversation_id,
      "aria-current": selected ? "true" : null, onclick: () => select(item.conversation_id),
    },
    el("span", { class: "qi-top" },
      el("strong", { title: item.customer || null, text: item.customer || summary.customer || "guest" }),
      el("span", { class: "muted wait", text: `${item.status === "waiting" ? "waiting" : "waited"} ${ago(item.waiting_seconds || 0)}` })),
    el("span", { class: "qi-intent", text: summary.intent || item.reason || "—" }),
    el("span", { class: "qi-bottom" },
      el("span", { class: "tag", text: item.team || "general" }),
      el("span", { class: `pill ${item.status}`, text: who }))));
}
