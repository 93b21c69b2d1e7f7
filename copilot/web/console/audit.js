/* Agent console: the open conversation's audit trail (every gateway decision on its tool calls). */
import { $, el } from "../shared/dom.js";
import { api, conv, listOf } from "./api.js";
import { state } from "./state.js";
import { clock, shortPrincipal } from "./views.js";

export async function loadAudit() {
  if (!state.selected) return;
  const id = state.selected;
  try {
    const body = await api("GET", conv("/audit"));
    if (id !== state.selected) return;
    const data = listOf(body, "entries");
    const tbody = $("audit").tBodies[0];
    tbody.replaceChildren(...data.map((r) => el("tr", {},
      el("td", { text: clock(r.at) }),
      el("td", { title: r.principal || null, text: `${shortPrincipal(r.principal)}${r.role ? ` (${r.role})` : ""}` }),
      el("td", { text: r.tool }),
      el("td", { class: `outcome ${r.outcome}`, title: r.reason || null, text: r.code ? `${r.outcome} · ${r.code}` : r.outcome }))));
    if (!data.length) tbody.append(el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No gateway decisions yet." })));
  } catch (err) {
    $("audit").tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "error", text: err.message })));
  }
}
