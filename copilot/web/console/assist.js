/* Agent console: copilot assist — a drafted reply (send / edit / discard), suggested tool actions, and the
   staff-only thread of earlier questions to the copilot with its drafts (never shown to the customer). */
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
  state.assistTimer = setTimeout(() => loadAssist({ auto: true }), 800);
}

/** Draft a reply (and suggestions). An automatic reload keeps a draft the agent asked for or chose from the
    staff thread (and one still being asked): only Refresh, Send or Discard replace it. */
export async function loadAssist(options) {
  if (!state.selected) return;
  const keep = Boolean(options && options.auto === true) && (state.askPending || state.draftChosen);
  if (!keep) Object.assign(state, { draftChosen: false, askPending: false });
  const id = state.selected;
  const run = keep ? state.assistRun : ++state.assistRun; // a later load or a discard makes this answer stale
  const draftBox = $("assist-draft");
  if (!keep) draftBox.replaceChildren(el("p", { class: "muted", text: "Drafting…" }));
  try {
    const data = await api("GET", conv("/assist"));
    if (id !== state.selected) return;
    if (!keep && run !== state.assistRun) return;
    if (!keep) renderDraft(data.draft || null);
    renderSuggestions(data.suggested_actions || []);
  } catch (err) {
    if (!keep) draftBox.replaceChildren(el("p", { class: "error", text: `Assist unavailable: ${err.message}` }));
  }
}

/** A staff question to the copilot: answered in the staff-only thread, shown as the draft (Send shares it). */
export async function askCopilot(event) {
  event.preventDefault();
  const text = $("ask-text").value.trim();
  if (!text || !state.selected) return;
  clearTimeout(state.assistTimer); // a draft load scheduled before the question must not replace its answer
  const run = ++state.assistRun;
  state.askPending = true;
  $("assist-draft").replaceChildren(el("p", { class: "muted", text: "Asking…" }));
  try {
    const data = await api("POST", conv("/assist/questions"), { text });
    if (run !== state.assistRun) return;
    renderDraft(data.draft || null);
    state.draftChosen = true;
    $("ask-text").value = "";
  } catch (err) {
    $("assist-draft").replaceChildren(el("p", { class: "error", text: `Copilot unavailable: ${err.message}` }));
  } finally {
    if (run === state.assistRun) state.askPending = false;
  }
}

/** The staff thread of the open conversation: its history (GET …/assist/questions), then live answers. */
export async function loadThread() {
  const id = state.selected;
  state.threadSeen = new Set();
  $("assist-thread").replaceChildren();
  try {
    const data = await api("GET", conv("/assist/questions"));
    if (id !== state.selected) return;
    for (const item of data.items || []) addThreadItem(item);
  } catch (err) {
    $("assist-thread").append(el("li", { class: "error", text: `Staff thread unavailable: ${err.message}` }));
  }
}

/** One question and the copilot's draft ({event_id, question, asked_by, draft}), kept in event order. */
export function addThreadItem(item) {
  if (state.threadSeen.has(item.event_id)) return;
  state.threadSeen.add(item.event_id);
  const draft = item.draft || { text: "", citations: [] };
  const node = el("li", { class: "thread-item", "data-seq": item.event_id },
    el("p", { class: "thread-q", text: `${item.asked_by || "Staff"} asked: ${item.question}` }),
    el("p", { class: "thread-a", text: draft.text || "No answer." }),
    citationList(draft.citations) || "",
    el("button", { type: "button", class: "ghost small", onclick: () => useDraft(draft) }, "Use as draft"));
  const list = $("assist-thread");
  const later = [...list.children].find((li) => Number(li.dataset.seq) > item.event_id);
  list.insertBefore(node, later || null);
}

function useDraft(draft) {
  state.assistRun += 1; // an answer still in flight must not replace the chosen one
  state.askPending = false;
  renderDraft(draft);
  state.draftChosen = true;
}

/** Drop the draft; an assist answer still in flight must not bring it back. */
export function discardDraft() {
  state.assistRun += 1;
  state.askPending = false;
  state.draftChosen = false;
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
    state.draftChosen = false;
    renderDraft(null);
  }, "conv-error");
}

export function draftEdit() {
  $("reply-text").value = $("assist-draft").dataset.text || "";
  $("reply-text").focus();
}
