/* Policy admin: the active policy and the roles × tools table (allow / deny / no rule, scope, limits). */
import { $, el } from "../shared/dom.js";
import { api } from "./api.js";
import { setExample } from "./simulator.js";
import { ROLES, state, when } from "./state.js";

/** Every pack tool with its schema (policy administrators may list them all), for simulator templates. */
async function loadSchemas() {
  if (state.schemas.size) return;
  try {
    const { data } = await api("GET", "/v1/tools?all=true");
    state.schemas = new Map((data.tools || []).map((tool) => [tool.name, tool]));
  } catch (exc) {
    state.schemas = new Map(); // not an admin (sign-in says so) or no gateway: templates fall back to {}
  }
}

/** Load the active policy (and the tool schemas once) and render it. */
export async function loadPolicy() {
  const [{ data, etag }] = await Promise.all([api("GET", "/v1/policy"), loadSchemas()]);
  state.policy = data;
  state.etag = etag || data.etag;
  const tools = new Set(state.schemas.keys());
  for (const row of data.table) { row.tools.forEach((t) => tools.add(t)); row.denied.forEach((t) => tools.add(t)); }
  for (const rule of data.rules) if (rule[0] === "p" && !rule[3].includes("*") && rule[3] !== "policy") tools.add(rule[3]);
  state.tools = [...tools].sort();
  renderActive();
}

function renderActive() {
  const p = state.policy;
  $("active-badge").textContent = `Policy of tenant ${p.tenant} · Active: version ${p.version}`;
  document.title = `Support Copilot — policy of ${p.tenant}`;
  $("roles-meta").textContent = `Version ${p.version} · ${p.kind} · by ${p.author} · ${when(p.created_at)} — “${p.message}”`;
  renderRolesTable();
  fillSelect($("sim-tool"), state.tools, $("sim-tool").value || "cancel_pending_order");
  fillSelect($("sim-role"), ROLES, $("sim-role").value || "customer");
  fillSelect($("f-tool"), ["", ...state.tools], $("f-tool").value, "Any tool");
  const list = $("tool-names") || document.body.appendChild(el("datalist", { id: "tool-names" }));
  list.replaceChildren(...[...state.tools, "policy", "*"].map((t) => el("option", { value: t })));
  if (!$("sim-args").value) setExample();
}

function fillSelect(select, values, selected, emptyLabel) {
  select.replaceChildren(...values.map((v) => el("option", { value: v, text: v || emptyLabel || "" })));
  if (values.includes(selected)) select.value = selected;
}

function renderRolesTable() {
  const table = state.policy.table;
  const head = el("tr", {}, el("th", { scope: "col", text: "Tool" }),
    table.map((r) => el("th", { scope: "col", text: r.role })));
  $("roles-table").tHead.replaceChildren(head);
  const rows = state.tools.map((tool) => el("tr", {}, el("th", { scope: "row" }, el("code", { text: tool })),
    table.map((r) => {
      const verdict = r.tools.includes(tool) ? "allow" : r.denied.includes(tool) ? "deny" : "none";
      const label = { allow: "allow", deny: "deny", none: "—" }[verdict];
      const sr = verdict === "none" ? "no rule, denied" : verdict;
      return el("td", { class: `cell ${verdict}`, "aria-label": `${r.role} ${tool}: ${sr}`, text: label });
    })));
  $("roles-table").tBodies[0].replaceChildren(...rows);
  const foot = [
    ["Scope", (r) => r.scope],
    ["Max refund", (r) => Number(r.max_refund).toLocaleString()],
    ["Manages policy", (r) => (r.manages_policy ? "yes" : "no")],
  ].map(([name, get]) => el("tr", {}, el("th", { scope: "row", text: name }),
    table.map((r) => el("td", { class: "cond", text: get(r) }))));
  $("roles-table").tFoot.replaceChildren(...foot);
}
