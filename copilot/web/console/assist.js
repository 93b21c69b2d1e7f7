/* Agent console: copilot assist — a drafted reply (send / edit / discard) and suggested tool actions. */
import { $, el } from "../shared/dom.js";
import { api, conv } from "./api.js";
import { renderState } from "./conversation.js";
import { runAction, sendReply } from "./reply.js";
import { state } from "./state.js";
import { runTool } from "./tools.js";
import { citationList } from "./views.js";

/** Reload assist shortly after the customer wrote (debounced). */
export function scheduleAssist() {
  clearTimeout(state.assistTimer);
  state.assistTimer = setTimeout(loadAssist, 800);
}

export async function loadAssist() {
  if (!state.selected) return;
  const id = state.selected;
  const run = ++state.assistRun; // a later load or a discard makes this answer stale
  const draftBox = $("assist-draft");
  draftBox.replaceChildren(el("p", { class: "muted", text: "Drafting…" }));
  try {
    const data = await api("GET", conv("/assist"));
    if (id !== state.selected || run !== state.assistRun) return;
    renderDraft(data.draft || null);
    renderSuggestions(data.suggested_actions || []);
  } catch (err) {
    draftBox.replaceChildren(el("p", { class: "error", text: `Assist unavailable: ${err.message}` }));
  }
}

/** A staff question to the copilot: answered in the staff-only thread, shown as the draft (Send shares it). */
export async function askCopilot(event) {
  event.preventDefault();
  const text = $("ask-text").value.trim();
  if (!text || !state.selected) return;
  const run = ++state.assistRun;
  $("assist-draft").replaceChildren(el("p", { class: "muted", text: "Asking…" }));
  try {
    const data = await api("POST", conv("/assist/questions"), { text });
    if (run !== state.assistRun) return;
    renderDraft(data.draft || null);
    $("ask-text").value = "";
  } catch (err) {
    $("assist-draft").replaceChildren(el("p", { class: "error", text: `Copilot unavailable: ${err.message}` }));
  }
}

/** Drop the draft; an assist answer still in flight must not bring it back. */
export function discardDraft() {
  state.assistRun += 1;
  renderDraft(null);
}

/** Show `draft` ({text, citations}) or "No draft." (null) and enable its buttons accordingly. */
export function renderDraft(draft) {
  const box = $("assist-draft");
  box.dataset.text = draft && draft.text ? draft.text : "";
  state.draftCitations = draft && Array.isArray(draft.citations) ? draft.citations : [];
  if (!box.dataset.text) {
    box.replaceChildren(el("p", { class: "muted", text: "No draft." }));
  } else {
    box.replaceChildren(el("p", { class: "draft-text", text: draft.text }), citationList(draft.citations) || "");
  }
  const has = Boolean(box.dataset.text);
  $("draft-edit").disabled = !has;
  $("draft-discard").disabled = !has;
  renderState();
  if (!has) $("draft-send").disabled = true;
}

function renderSuggestions(actions) {
  const box = $("assist-actions");
  if (!actions.length) {
    box.replaceChildren(el("p", { class: "muted", text: "No suggested actions." }));
    return;
  }
  box.replaceChildren(...actions.map((action) => el("button", {
    type: "button", class: "suggestion", title: `${action.tool} ${JSON.stringify(action.arguments || {})}`,
    onclick: (event) => runTool(event.currentTarget, action, $("tool-output"), "conv-error"),
  }, action.label || action.tool)));
}

export async function draftSend() {
  const text = $("assist-draft").dataset.text || "";
  await runAction($("draft-send"), async () => {
    await sendReply(text, (state.draftCitations || []).map((c) => ({ id: c.id, title: c.title || "" })));
    renderDraft(null);
  }, "conv-error");
}

export function draftEdit() {
  $("reply-text").value = $("assist-draft").dataset.text || "";
  $("reply-text").focus();
}
