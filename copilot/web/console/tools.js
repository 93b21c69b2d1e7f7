/* Agent console: calling a tool as the agent and rendering its outcome — result, preview to confirm or cancel,
   approval request, or refusal. */
import { el } from "../shared/dom.js";
import { api, conv } from "./api.js";
import { loadAudit } from "./audit.js";
import { runAction } from "./reply.js";
import { formatValue, keyValues, sentencesView } from "./views.js";

/** Call a tool with the agent's own principal; the outcome (result, preview, denial) is rendered into `out`. */
export async function runTool(button, action, out, errorBox) {
  await runAction(button, async () => {
    out.replaceChildren(el("p", { class: "muted", text: `Running ${action.tool}…` }));
    try {
      const result = await api("POST", conv("/agent-tools"), { tool: action.tool, arguments: action.arguments || {} });
      renderToolResult(result, action.tool, out);
    } catch (err) {
      out.replaceChildren();
      throw err;
    }
    loadAudit();
  }, errorBox);
  button.disabled = false;
}

function normalize(result) {
  const outcome = result.outcome || result.status || (result.preview || result.preview_id ? "preview" : "executed");
  const preview = result.preview || (result.preview_id ? result : null);
  return { ...result, outcome, preview };
}

function renderToolResult(raw, toolName, out) {
  const result = normalize(raw || {});
  requestAnimationFrame(() => out.scrollIntoView({ block: "nearest" }));
  const title = el("h4", { text: `${result.tool || toolName}: ${result.outcome}` });
  if (result.approval_id) {
    out.replaceChildren(el("h4", { text: `${result.tool || toolName}: needs approval` }),
      el("p", { class: "approval-note", text: `Over your limit — approval request ${result.approval_id} was sent to a supervisor.` }),
      result.message ? el("p", { class: "muted small", text: result.message }) : null);
  } else if (result.outcome === "preview" && result.preview) {
    out.replaceChildren(title, previewCard(result.preview, out));
  } else if (result.outcome === "executed") {
    out.replaceChildren(title, resultView(result.result));
  } else if (result.outcome === "rejected") {
    out.replaceChildren(el("p", { class: "muted", text: "Cancelled; nothing changed." }));
  } else {
    out.replaceChildren(title, el("p", { class: "error", text: result.message || result.code || "Not executed." }));
  }
}

function resultView(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) return keyValues(value, "kv result");
  return el("pre", { text: formatValue(value) });
}

function previewCard(preview, out) {
  const card = el("div", { class: "preview", role: "group", "aria-label": "Preview of the change" },
    el("p", { class: "preview-summary", text: "Please confirm:" }),
    sentencesView(preview.sentences, preview.summary));
  const confirmBtn = el("button", { type: "button", class: "primary", text: "Confirm" });
  const cancelBtn = el("button", { type: "button", text: "Cancel" });
  const decide = (approve) => runAction(approve ? confirmBtn : cancelBtn, async () => {
    confirmBtn.disabled = true;
    cancelBtn.disabled = true;
    const result = await api("POST", conv("/agent-confirmations"), { preview_id: preview.preview_id, approve });
    renderToolResult(result, preview.tool, out);
    loadAudit();
  }, "conv-error");
  confirmBtn.addEventListener("click", () => decide(true));
  cancelBtn.addEventListener("click", () => decide(false));
  card.append(el("div", { class: "row" }, confirmBtn, cancelBtn));
  return card;
}
