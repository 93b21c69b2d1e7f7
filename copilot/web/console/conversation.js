/* Agent console: the open conversation — select/close, its live event stream, ownership state and summary. */
import { $, el } from "../shared/dom.js";
import { followEvents } from "../shared/sse.js";
import { loadAssist, loadThread } from "./assist.js";
import { loadAudit } from "./audit.js";
import { refreshTemplate } from "./runner.js";
import { currentItem, state } from "./state.js";
import { onEvent } from "./transcript.js";
import { claimedUser, formatValue, prettyJson, showError } from "./views.js";

/** Stop following the open conversation and forget its view state. */
export function closeConversation() {
  state.gen += 1;
  if (state.stream) state.stream.abort();
  state.stream = null;
  state.selected = null;
  state.streaming.clear();
  state.tools.clear();
  state.lastUser = null;
  clearTimeout(state.assistTimer);
}

/** Open a conversation: reset the panes, follow its events, load its audit trail and copilot assist. */
export function select(conversationId) {
  closeConversation();
  state.selected = conversationId;
  state.lastSeq = 0;
  $("conv-empty").hidden = true;
  $("conv-body").hidden = false;
  $("side").hidden = false;
  $("transcript").replaceChildren();
  $("tool-output").replaceChildren();
  $("run-output").replaceChildren();
  showError("conv-error", null);
  showError("run-error", null);
  const picked = state.items.get(conversationId);
  $("conv-title").textContent = picked ? `${picked.customer} · conversation` : "Conversation";
  document.querySelectorAll(".queue-item").forEach((b) => {
    const on = b.dataset.conversation === conversationId;
    b.classList.toggle("selected", on);
    if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
  });
  renderState();
  refreshTemplate(true);
  const controller = new AbortController();
  state.stream = controller;
  loadThread();
  follow(conversationId, state.gen, controller.signal);
  loadAudit();
  loadAssist();
}

/** Apply the conversation's events (replayed from the start, then live) to the transcript. */
function follow(conversationId, gen, signal) {
  return followEvents(`/v1/conversations/${encodeURIComponent(conversationId)}/events`, {
    token: () => state.token,
    lastId: () => state.lastSeq,
    signal,
    active: () => gen === state.gen,
    onFrame: (frame) => {
      const seq = Number.parseInt(frame.id, 10);
      if (!(seq > state.lastSeq)) return; // already applied (replay after a reconnect)
      state.lastSeq = seq;
      let payload = {};
      try { payload = JSON.parse(frame.data || "{}"); } catch (err) { payload = { text: frame.data }; }
      onEvent(frame.event, payload, seq);
    },
    onRefused: async (res) => {
      const body = await res.json().catch(() => ({}));
      showError("conv-error", new Error((body.error && body.error.message) || `HTTP ${res.status}`));
    },
  });
}

/** Claim/release/reply controls, the state pill and the handoff summary, from the queue item. */
export function renderState() {
  const item = currentItem();
  const status = item ? item.status : "not queued";
  const mine = Boolean(item && item.status === "claimed" && claimedUser(item) === state.me.user);
  const pill = $("conv-state");
  pill.textContent = item && item.status === "claimed" ? `claimed by ${claimedUser(item)}` : status;
  pill.className = `pill ${item ? item.status : ""}`;
  $("claim-btn").hidden = mine;
  $("claim-btn").disabled = Boolean(item && item.status === "claimed");
  $("release-btn").hidden = !mine;
  $("reply-send").disabled = !mine;
  $("draft-send").disabled = !mine;
  $("reply-hint").textContent = mine ? "You own this conversation; the bot is paused."
    : "Claim the conversation to reply; the bot stays paused while you own it.";
  const summary = (item && item.summary) || {};
  $("conv-meta").textContent = [
    state.selected,
    item && item.team ? `team ${item.team}` : null,
    item && item.reason ? `reason: ${item.reason}` : null,
  ].filter(Boolean).join(" · ");
  renderSummary(summary, item);
}

function renderSummary(summary, item) {
  const dl = $("summary");
  const rows = [
    ["Customer", summary.customer || (item && item.customer) || "—"],
    ["Intent", summary.intent || "—"],
    ["What was tried", summary.tried],
    ["Tool results", summary.tool_results],
    ["Open previews", summary.open_previews],
  ];
  dl.replaceChildren(...rows.flatMap(([label, value]) => [el("dt", { text: label }), el("dd", {}, summaryValue(value))]));
}

function summaryValue(value) {
  if (value === undefined || value === null || (Array.isArray(value) && !value.length)) return "none";
  if (!Array.isArray(value)) return formatValue(value);
  return el("ul", {}, value.map((entry) => el("li", {}, typeof entry === "object" ? describeEntry(entry) : String(entry))));
}

/** A tool result or open preview: "tool — outcome", its detail folded away (results can be long JSON). */
function describeEntry(entry) {
  const head = [entry.tool, entry.outcome].filter(Boolean).join(" — ") || entry.preview_id || "entry";
  const detail = entry.summary || entry.detail || entry.message;
  if (!detail) return head;
  return el("details", {}, el("summary", { text: head }), el("pre", { text: prettyJson(detail) }));
}
