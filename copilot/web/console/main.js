/* Support Copilot agent console: queue, live conversation (SSE over fetch), copilot assist, audit trail and the
   supervisors' approvals inbox. Native ES modules, no build step, no external requests. This module wires the
   page's controls to the modules that own them and restores the tab's session. */
import { $ } from "../shared/dom.js";
import { wireSignIn } from "../shared/session.js";
import { wireTabs } from "../shared/tabs.js";
import { setUnauthorizedHandler } from "./api.js";
import { refreshApprovals } from "./approvals.js";
import { askCopilot, discardDraft, draftEdit, draftSend, loadAssist } from "./assist.js";
import { refreshQueue } from "./queue.js";
import { claim, onReply, release, stopBot } from "./reply.js";
import { onRunTool, refreshTemplate } from "./runner.js";
import { savedToken, signIn, signOut } from "./session.js";
import { showError } from "./views.js";

function wire() {
  wireSignIn(signIn, signOut);
  setUnauthorizedHandler(signOut);
  $("queue-status").addEventListener("change", refreshQueue);
  $("queue-team").addEventListener("change", refreshQueue);
  $("claim-btn").addEventListener("click", claim);
  $("release-btn").addEventListener("click", release);
  $("stop-bot-btn").addEventListener("click", stopBot);
  $("reply-form").addEventListener("submit", onReply);
  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
  });
  $("assist-refresh").addEventListener("click", loadAssist);
  $("draft-send").addEventListener("click", draftSend);
  $("draft-edit").addEventListener("click", draftEdit);
  $("draft-discard").addEventListener("click", discardDraft);
  $("ask-form").addEventListener("submit", askCopilot);
  $("approvals-status").addEventListener("change", refreshApprovals);
  $("run-form").addEventListener("submit", onRunTool);
  $("run-tool").addEventListener("change", () => {
    showError("run-error", null);
    $("run-args").removeAttribute("aria-invalid");
    refreshTemplate(true);
  });
  $("run-reset").addEventListener("click", () => refreshTemplate(true));
  wireTabs((tab) => { if (tab.id === "tab-approvals") refreshApprovals(); });
}

function start() {
  wire();
  const saved = savedToken.load();
  if (saved) {
    try { signIn(saved); return; } catch (err) { savedToken.clear(); }
  }
  signOut("");
}

start();
