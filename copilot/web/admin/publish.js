/* Policy admin: validating and saving the draft — findings, policy tests, acknowledgement of warnings, and
   refusals (stale ETag, unacknowledged grants) shared with rollback. */
import { $, el, toast } from "../shared/dom.js";
import { api } from "./api.js";
import { changes, markDirty, proposedBody, resetDraft } from "./editor.js";
import { diffList, refreshAll } from "./history.js";
import { loadPolicy } from "./roles.js";
import { diffTable } from "./simulator.js";
import { ruleText, state } from "./state.js";

/** Findings as a list; with `withAck`, each warning gets a checkbox that acknowledges it. */
function findingsList(findings, withAck) {
  return el("ul", { class: "findings" }, findings.map((f) => {
    const text = `${f.message}${f.rule ? ` — ${ruleText(f.rule)}` : ""}`;
    if (f.severity === "warning" && withAck) {
      const boxId = `ack-${++state.seq}`;
      const box = el("input", { type: "checkbox", id: boxId, checked: state.ack.has(f.id), "data-warning": f.id });
      box.addEventListener("change", () => { if (box.checked) state.ack.add(f.id); else state.ack.delete(f.id); });
      return el("li", { class: "finding warning" }, box,
        el("label", { for: boxId }, el("strong", { text: "Warning " }), el("code", { text: f.id }), " ", text,
          el("span", { class: "muted", text: " (tick to acknowledge)" })));
    }
    return el("li", { class: `finding ${f.severity || "error"}` },
      el("strong", { text: f.severity === "warning" ? "Warning " : "Error " }), el("code", { text: f.id }), " ", text);
  }));
}

function testsBlock(tests) {
  const failed = tests.failures || [];
  const blocking = failed.filter((f) => f.required);
  const head = tests.passed
    ? el("p", { class: "ok", text: `Required policy tests pass${failed.length ? ` (${failed.length} advisory case(s) changed)` : ""}.` })
    : el("p", { class: "error", text: `${blocking.length} required policy test(s) fail: this cannot be saved.` });
  const list = el("ul", { class: "findings" }, failed.map((f) => el("li", { class: `finding ${f.required ? "error" : "info"}` },
    `${f.file}: ${f.case} — expected ${f.expected}, got ${f.got}${f.required ? "" : " (advisory)"}`)));
  return [head, failed.length ? list : null];
}

export async function validate() {
  const out = $("validate-out");
  out.replaceChildren(el("p", { class: "muted", text: "Validating…" }));
  try {
    const { data } = await api("POST", "/v1/policy/validate", proposedBody());
    const errors = data.findings.filter((f) => f.severity !== "warning");
    const warnings = data.findings.filter((f) => f.severity === "warning");
    const parts = [el("p", { class: data.valid ? "ok" : "error", text: data.valid
      ? `Valid${warnings.length ? `, with ${warnings.length} warning(s) to acknowledge` : ""}.`
      : `${errors.length} error(s): this cannot be saved.` })];
    if (data.findings.length) parts.push(findingsList(data.findings, true));
    if (data.tests) parts.push(...testsBlock(data.tests));
    if (data.decision_diff) parts.push(el("h4", { text: "Decision changes" }), diffTable(data.decision_diff));
    out.replaceChildren(...parts.filter(Boolean));
  } catch (exc) {
    out.replaceChildren(el("p", { class: "error", text: exc.message }),
      exc.details.findings ? findingsList(exc.details.findings, false) : null);
  }
}

/** Render a refused write (save or rollback) into `out`: a stale-version conflict with Reload, or the reasons
    (warnings to tick, errors, failing tests). */
export function refused(out, exc) {
  if (exc.status === 412) {
    const { added, removed } = changes();
    const mine = { added: added.map((k) => k.split(",")), removed: removed.map((k) => k.split(",")) };
    out.replaceChildren(el("div", { class: "conflict" },
      el("p", { class: "conflict-title", text: "The policy changed since you loaded it — reload." }),
      el("p", { text: `Someone else saved ${(/version \d+/.exec(exc.message) || ["a newer version"])[0]} after you `
        + "started editing. Reload discards the edits below; re-apply them on top of it." }),
      added.length + removed.length ? [el("p", { class: "small", text: "Your unsaved changes:" }), diffList(mine)] : null,
      el("button", { type: "button", class: "primary", text: "Reload", onclick: async () => {
        await loadPolicy(); resetDraft(); refreshAll(); toast(`Reloaded version ${state.policy.version}`);
      } })));
    return;
  }
  const text = exc.code === "policy_unacknowledged"
    ? "Not saved: this change grants more than before. Tick each warning you accept, then try again."
    : exc.message;
  const parts = [el("p", { class: "error", text })];
  if (exc.details.warnings) parts.push(findingsList(exc.details.warnings, true));
  if (exc.details.findings) parts.push(findingsList(exc.details.findings, false));
  if (exc.details.failures) parts.push(...testsBlock({ passed: false, failures: exc.details.failures }));
  out.replaceChildren(...parts);
}

export async function save(event) {
  event.preventDefault();
  const out = $("save-out");
  const message = $("save-message").value.trim();
  if (!message) {
    out.replaceChildren(el("p", { class: "error", text: "Write a short change message (why) before saving." }));
    $("save-message").focus();
    return;
  }
  if (!markDirty()) {
    out.replaceChildren(el("p", { class: "muted", text: "Nothing to save: the rules equal the active version." }));
    return;
  }
  out.replaceChildren(el("p", { class: "muted", text: "Saving…" }));
  try {
    const { data } = await api("PUT", "/v1/policy", { ...proposedBody(), message, acknowledge: [...state.ack] },
      { "If-Match": state.etag });
    await loadPolicy();
    resetDraft();
    $("save-message").value = "";
    out.replaceChildren(el("p", { class: "ok", text: `Saved as version ${data.version}. It applies to the next tool call of every conversation.` }));
    toast(`Saved version ${data.version}`);
    refreshAll();
  } catch (exc) {
    refused(out, exc);
  }
}
