/* Support Copilot admin console: roles × tools table, rules editor with validation, what-if simulator,
   decision diff, version history with rollback, the prompt registry, audit log, analytics. Talks only to this
   server's API.
   Native ES modules, no build step, no external requests. This module wires the page and restores the session. */
import { $, toast } from "../shared/dom.js";
import { wireSignIn } from "../shared/session.js";
import { wireTabs } from "../shared/tabs.js";
import { loadAnalytics, wireAnalytics } from "./analytics.js";
import { loadAudit, loadChanges, wireAudit } from "./audit.js";
import { addRule, markDirty, renderRows, resetDraft, setMode } from "./editor.js";
import { loadHistory } from "./history.js";
import { loadPrompts, publishPrompts, validatePrompts } from "./prompts.js";
import { save, validate } from "./publish.js";
import { savedToken, showSignIn, signIn } from "./session.js";
import { decisionDiff, setExample, simulate } from "./simulator.js";

function onShow(tab) {
  if (tab.id === "tab-audit") { loadChanges(); loadAudit(); }
  if (tab.id === "tab-history") loadHistory();
  if (tab.id === "tab-analytics") loadAnalytics();
  if (tab.id === "tab-prompts") loadPrompts();
}

function wire() {
  wireSignIn(async (token) => {
    await signIn(token, onShow);
    $("token-input").value = "";
  }, showSignIn);
  wireTabs(onShow);
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", () => setMode(radio.value));
  $("rule-filter").addEventListener("input", renderRows);
  $("add-rule").addEventListener("click", addRule);
  $("reset-rules").addEventListener("click", () => { resetDraft(); toast("Edits discarded"); });
  $("csv-text").addEventListener("input", markDirty);
  $("validate-btn").addEventListener("click", validate);
  $("save-form").addEventListener("submit", save);
  $("sim-form").addEventListener("submit", simulate);
  $("sim-tool").addEventListener("change", setExample);
  $("ddiff-btn").addEventListener("click", decisionDiff);
  $("prompts-form").addEventListener("submit", publishPrompts);
  $("prompts-validate").addEventListener("click", validatePrompts);
  wireAudit();
  wireAnalytics();
}

async function start() {
  wire();
  const saved = savedToken.load();
  if (!saved) { showSignIn(""); return; }
  try {
    await signIn(saved, onShow);
  } catch (exc) {
    showSignIn(exc.message);
  }
}

start();
