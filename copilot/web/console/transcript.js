/* Agent console: the live transcript — conversation events rendered as messages, tool calls and notes. */
import { $, el } from "../shared/dom.js";
import { refreshApprovals } from "./approvals.js";
import { addThreadItem, scheduleAssist } from "./assist.js";
import { loadAudit } from "./audit.js";
import { refreshQueue } from "./queue.js";
import { refreshTemplate } from "./runner.js";
import { state } from "./state.js";
import { citationList, formatValue, sentencesView, short } from "./views.js";

const TOOL_EVENTS = ["tool.requested", "tool.executed", "tool.preview", "tool.denied", "tool.invalid", "tool.error"];
const NOTES = {
  "handoff.requested": (d) => `Handoff requested${d.reason ? ` (${d.reason})` : ""}`,
  "handoff.queued": (d) => `Queued for a human${d.team ? ` · team ${d.team}` : ""}`,
  "handoff.claimed": (d) => `${d.agent || "An agent"} joined the conversation`,
  "handoff.released": (d) => `Handed back to the bot${d.agent ? ` by ${d.agent}` : ""}`,
  "approval.requested": (d) => `Approval requested: ${d.summary || d.tool || ""}`,
  "approval.decided": (d) => `Approval ${d.approved === false ? "rejected" : "approved"}${d.decided_by ? ` by ${d.decided_by}` : ""}`,
  "feedback.recorded": (d) => `Customer rated an answer ${d.rating === "up" ? "thumbs up" : "thumbs down"}${d.comment ? `: “${d.comment}”` : ""}`,
  error: (d) => `Error: ${d.message || d.code || "unknown"}`,
  "turn.recovered": (d) => `A worker stopped mid-turn; the turn was resumed (attempt ${d.attempt || 2})`,
};
const ROLE_LABEL = { user: "Customer", assistant: "Copilot", agent: "Agent" };

/** Render one conversation event (`seq` is its position in the conversation's log). */
export function onEvent(type, data, seq) {
  if (type === "message.delta") return onDelta(data);
  if (type === "message.completed") return onCompleted(data);
  if (type === "turn.started") return onTurnStarted(data);
  if (type === "message.user") {
    state.lastUser = { text: data.text, seq };
    addMessage("user", data.text, {});
    scheduleAssist();
    return;
  }
  if (type === "agent.message") return addMessage("agent", data.text, { who: data.agent, citations: data.citations });
  if (type === "turn.completed") return dropStreaming(data.turn_id);
  if (type === "assist.answered") {
    const draft = { text: data.text || "", citations: data.citations || [] };
    return addThreadItem({ event_id: seq, question: data.question || "", asked_by: data.asked_by, draft });
  }
  if (type === "turn.recovered") dropStreaming(data.turn_id); // the resumed turn streams its answer again
  if (TOOL_EVENTS.includes(type)) { addTool(type, data); loadAudit(); return; }
  if (NOTES[type]) {
    addNote(NOTES[type](data), type);
    if (type.startsWith("handoff.")) refreshQueue();
    if (type.startsWith("approval.")) refreshApprovals();
  }
}

function onTurnStarted(data) {
  if (data.resume) {
    addNote(`Customer ${data.resume.approved ? "confirmed" : "cancelled"} a preview`, "turn.started");
  }
  if (typeof data.text !== "string") return;
  const last = state.lastUser;
  if (last && last.text === data.text && state.lastSeq - last.seq <= 2) return; // already shown as message.user
  addMessage("user", data.text, {});
  scheduleAssist();
}

function onDelta(data) {
  const key = data.message_id || data.turn_id || "live";
  let bubble = state.streaming.get(key);
  if (!bubble) {
    bubble = addMessage("assistant", "", { streaming: true, turn: data.turn_id });
    state.streaming.set(key, bubble);
  }
  bubble.querySelector(".text").textContent += data.text || "";
}

function dropStreaming(turnId) {
  for (const [key, bubble] of state.streaming) {
    if (!turnId || bubble.dataset.turn === turnId) { bubble.remove(); state.streaming.delete(key); }
  }
}

function onCompleted(data) {
  dropStreaming(data.turn_id);
  addMessage("assistant", data.text || "", { citations: data.citations });
}

function addMessage(role, text, opts) {
  const who = role === "agent" && opts.who ? `Agent ${opts.who}` : ROLE_LABEL[role];
  const item = el("li", { class: `msg ${role}${opts.streaming ? " streaming" : ""}`, "data-turn": opts.turn || null },
    el("span", { class: "who", text: who }),
    el("p", { class: "text", text }),
    citationList(opts.citations));
  appendToTranscript(item);
  if (text) refreshTemplate(false);
  return item;
}

/** One line per tool call: created by tool.requested (arguments), updated in place by its outcome. */
function addTool(type, data) {
  const outcome = type.slice("tool.".length);
  const known = data.call_id && state.tools.get(data.call_id);
  const details = known || el("details", {});
  details.className = `tool ${outcome}`;
  const detail = data.summary || data.message || "";
  const head = el("summary", {}, el("span", { class: "tool-name", text: data.tool || "tool" }), ` ${outcome}`,
    detail ? ` — ${short(detail, 120)}` : "");
  if (details.firstChild) details.firstChild.replaceWith(head); else details.append(head);
  if (type === "tool.requested") details.append(el("pre", { "aria-label": "Arguments", text: formatValue(data.arguments) }));
  if (type === "tool.executed") details.append(el("pre", { "aria-label": "Result", text: formatValue(data.result) }));
  if (type === "tool.preview") details.append(sentencesView(data.sentences, data.summary) || "");
  if (data.call_id) state.tools.set(data.call_id, details);
  if (!known) appendToTranscript(el("li", { class: "activity" }, details));
}

function addNote(text, type) {
  appendToTranscript(el("li", { class: `note ${type.replace(".", "-")}`, text }));
}

function appendToTranscript(node) {
  const list = $("transcript");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.append(node);
  if (atBottom) list.scrollTop = list.scrollHeight;
}
