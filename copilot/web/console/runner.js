/* Agent console: the Run-a-tool panel — the role's callable tools, argument templates from their schemas
   (hinted from the open conversation), and running one. */
import { $, el } from "../shared/dom.js";
import { templateText } from "../shared/tool-args.js";
import { api, listOf } from "./api.js";
import { currentItem, state } from "./state.js";
import { runTool } from "./tools.js";
import { showError } from "./views.js";

/** The tools this agent's role may call (GET /v1/tools), for the Run-a-tool panel. */
export async function loadCatalog() {
  const select = $("run-tool");
  try {
    const data = await api("GET", "/v1/tools");
    const tools = listOf(data, "tools");
    state.catalog = new Map(tools.map((tool) => [tool.name, tool]));
    select.replaceChildren(...tools.map((tool) => el("option", { value: tool.name,
      text: tool.side_effect === "write" ? `${tool.name} (write, previewed)` : tool.name })));
    refreshTemplate(true);
  } catch (err) {
    $("run-tool-help").textContent = `Tools unavailable: ${err.message}`;
  }
}

/** Argument hints from the selected conversation: its customer's user id, and for each `*_id` argument with a
    pattern (e.g. order ids) the last value mentioned in the transcript's messages. */
function argumentHints(tool) {
  const item = currentItem();
  const customer = item && (item.customer || (item.summary && item.summary.customer));
  const hints = {};
  const said = [...document.querySelectorAll("#transcript .msg .text")].map((n) => n.textContent).join("\n");
  for (const [name, schema] of Object.entries((tool.parameters && tool.parameters.properties) || {})) {
    if (!name.endsWith("_id") || !schema || typeof schema.pattern !== "string") continue;
    let found = null;
    try { found = said.match(new RegExp(schema.pattern.replace(/^\^/, "").replace(/\$$/, ""), "g")); } catch (err) { found = null; }
    if (found && found.length) hints[name] = found[found.length - 1];
  }
  if (customer && customer !== "guest" && !String(customer).startsWith("guest_")) hints.user_id = customer;
  return hints;
}

/** Fill the arguments box from the tool's schema; unless `force`, only while the agent has not edited it. */
export function refreshTemplate(force) {
  const tool = state.catalog.get($("run-tool").value);
  const box = $("run-args");
  $("run-tool-help").textContent = tool
    ? `${tool.description}${tool.side_effect === "write" ? " You confirm the preview before anything changes." : ""}`
    : "";
  if (!tool || !state.selected) return;
  if (!force && box.value.trim() && box.value !== state.lastTemplate) return;
  box.value = templateText(tool.parameters, argumentHints(tool));
  state.lastTemplate = box.value;
}

export async function onRunTool(event) {
  event.preventDefault();
  showError("run-error", null);
  const tool = $("run-tool").value;
  let args;
  try {
    args = JSON.parse($("run-args").value.trim() || "{}");
    if (typeof args !== "object" || args === null || Array.isArray(args)) throw new Error("expected an object like {\"order_id\": \"#W0000001\"}");
  } catch (err) {
    $("run-args").setAttribute("aria-invalid", "true");
    showError("run-error", new Error(`Arguments must be a JSON object: ${err.message}`));
    $("run-args").focus();
    return;
  }
  $("run-args").removeAttribute("aria-invalid");
  if (!tool) { showError("run-error", new Error("Pick a tool first.")); return; }
  await runTool($("run-btn"), { tool, arguments: args }, $("run-output"), "run-error");
}
