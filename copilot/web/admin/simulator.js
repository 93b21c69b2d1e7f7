/* Policy admin: the what-if simulator (one request against the active or proposed rules) and the decision
   diff (every sample request whose decision the draft would change). */
import { $, el } from "../shared/dom.js";
import { templateText } from "../shared/tool-args.js";
import { api } from "./api.js";
import { proposedBody } from "./editor.js";
import { ruleText, state } from "./state.js";

/** Simulator templates are built from each tool's JSON Schema (GET /v1/tools?all=true); these demo-store
    values fill arguments of that name in any tool (the "User id" field wins for user_id). */
const SAMPLE_VALUES = { order_id: "#W0000001", user_id: "demo_customer_0001" };
const CHECKS = [["permission", "Permission"], ["validation", "Arguments"], ["ownership", "Ownership"], ["limit", "Limit"]];

/** Fill the arguments box with the selected tool's template, unless the admin edited it. */
export function setExample() {
  const tool = state.schemas.get($("sim-tool").value);
  const hints = { ...SAMPLE_VALUES, user_id: $("sim-user").value.trim() || SAMPLE_VALUES.user_id };
  const example = tool ? templateText(tool.parameters, hints) : "{}";
  const current = $("sim-args").value.trim();
  if (!current || current === state.lastExample.trim()) $("sim-args").value = example;
  state.lastExample = example;
}

function renderSimulation(sim, on) {
  const badge = el("p", { class: `decision ${sim.decision}`, id: "sim-decision" },
    el("span", { class: "sr-only", text: "Decision: " }), sim.decision.toUpperCase());
  const checks = el("dl", { class: "kv checks-list" }, CHECKS.map(([key, label]) => {
    const check = sim[key];
    const mark = check.passed === true ? "✓ passed" : check.passed === false ? "✗ failed" : "— not evaluated";
    const cls = check.passed === true ? "ok" : check.passed === false ? "bad" : "muted";
    return [el("dt", { text: label }), el("dd", {}, el("span", { class: cls, text: mark }), check.detail ? ` — ${check.detail}` : "")];
  }));
  const facts = el("dl", { class: "kv" },
    el("dt", { text: "Evaluated on" }), el("dd", { text: `${on} (${sim.policy_version})` }),
    el("dt", { text: "Matched rule" }), el("dd", {}, sim.matched_rule.length
      ? el("code", { id: "sim-rule", text: ruleText(sim.matched_rule) }) : el("span", { id: "sim-rule", text: "none (default deny)" })),
    el("dt", { text: "Scope" }), el("dd", { text: sim.scope }),
    el("dt", { text: "Max refund" }), el("dd", { text: Number(sim.limit_value).toLocaleString() }),
    el("dt", { text: "Amount" }), el("dd", { text: sim.amount === null ? "—" : Number(sim.amount).toFixed(2) }),
    el("dt", { text: "Records" }), el("dd", { id: "sim-data", text: sim.data || "" }));
  $("sim-result").replaceChildren(badge, facts, el("h4", { text: "Checks" }), checks);
}

export async function simulate(event) {
  event.preventDefault();
  $("sim-error").textContent = "";
  let args;
  try {
    args = JSON.parse($("sim-args").value || "{}");
    if (typeof args !== "object" || Array.isArray(args) || args === null) throw new Error("not an object");
  } catch (exc) {
    $("sim-error").textContent = `Arguments must be a JSON object (${exc.message}).`;
    $("sim-args").focus();
    return;
  }
  const on = document.querySelector("input[name=sim-on]:checked").value;
  const body = {
    principal: { role: $("sim-role").value, tenant: $("sim-tenant").value.trim() || null,
      user_id: $("sim-user").value.trim() || "simulated" },
    tool: $("sim-tool").value, arguments: args,
    ...(on === "proposed" ? proposedBody() : {}),
  };
  $("sim-result").replaceChildren(el("p", { class: "muted", text: "Simulating…" }));
  try {
    const { data } = await api("POST", "/v1/policy/simulate", body);
    renderSimulation(data, on === "proposed" ? "proposed rules" : `active version ${state.policy.version}`);
  } catch (exc) {
    $("sim-result").replaceChildren(el("p", { class: "error", text: exc.message }));
  }
}

/** The decisions that change between two rule sets (also shown by validation). */
export function diffTable(diff) {
  if (!diff.changed.length && !diff.settings.length) {
    return el("p", { class: "muted", text: `No decision changes over ${diff.samples} sample requests.` });
  }
  const rows = diff.changed.map((c) => el("tr", {},
    el("td", { text: c.role }), el("td", {}, el("code", { text: c.object })),
    el("td", { class: `cell ${c.before}`, text: c.before }), el("td", { class: `cell ${c.after}`, text: c.after }),
    el("td", { class: "small" }, el("code", { text: c.rule_after.length ? ruleText(c.rule_after) : (c.rule_before.length ? `was ${ruleText(c.rule_before)}` : "") }))));
  const settings = diff.settings.map((s) => el("tr", {},
    el("td", { text: s.role }), el("td", { text: s.key }), el("td", { text: String(s.before) }),
    el("td", { text: String(s.after) }), el("td", {})));
  return el("div", { class: "table-wrap" }, el("table", { class: "log ddiff" },
    el("caption", { class: "caption", text: `${diff.changed.length} decision(s) change over ${diff.samples} samples (${diff.before} → ${diff.after})` }),
    el("thead", {}, el("tr", {}, ["Role", "Tool", "Before", "After", "Deciding rule"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows, settings)));
}

export async function decisionDiff() {
  const out = $("ddiff-out");
  out.replaceChildren(el("p", { class: "muted", text: "Comparing…" }));
  try {
    const { data } = await api("POST", "/v1/policy/diff-decisions", proposedBody());
    out.replaceChildren(diffTable(data));
  } catch (exc) {
    out.replaceChildren(el("p", { class: "error", text: exc.message }));
  }
}
