/* Policy admin: the audit log — policy changes, and every gateway decision and turn record (filtered, paged),
   with the policy, prompt and model versions behind it. */
import { $, el } from "../shared/dom.js";
import { api } from "./api.js";
import { diffCount, diffList } from "./history.js";
import { state, when } from "./state.js";

const AUDIT_PAGE = 25;
const FILTERS = [["tool", "f-tool"], ["principal", "f-principal"], ["outcome", "f-outcome"]];

export async function loadChanges() {
  try {
    const { data } = await api("GET", "/v1/policy/changes?limit=50");
    $("changes-table").tBodies[0].replaceChildren(...data.items.map((c) => el("tr", {},
      el("td", { text: `v${c.version}` }), el("td", { class: "nowrap", text: when(c.created_at) }), el("td", { text: c.author }),
      el("td", { text: c.rollback_of ? `rollback of v${c.rollback_of}` : c.kind }), el("td", { text: c.message }),
      el("td", {}, el("details", {}, el("summary", { text: diffCount(c.diff) }), diffList(c.diff))))));
  } catch (exc) {
    $("changes-table").tBodies[0].replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "error", text: exc.message })));
  }
}

export async function loadAudit() {
  const params = new URLSearchParams({ limit: String(AUDIT_PAGE), offset: String(state.auditOffset) });
  for (const [key, id] of FILTERS) {
    const value = $(id).value.trim();
    if (value) params.set(key, value);
  }
  try {
    const { data } = await api("GET", `/v1/audit?${params}`);
    $("audit-table").tBodies[0].replaceChildren(...(data.items.length ? data.items.map((a) => el("tr", {},
      el("td", { class: "nowrap", text: when(a.at) }), el("td", { text: a.principal }),
      el("td", {}, el("code", { text: a.tool })), el("td", { class: `outcome ${a.outcome}`, text: a.outcome }),
      el("td", { text: a.reason || a.code || "" }), el("td", { class: "nowrap", text: a.policy_version }),
      el("td", { class: "nowrap", text: a.prompt_version || "" }), el("td", { class: "small", text: a.model || "" }),
      el("td", { class: "small", text: a.conversation_id || "" })))
      : [el("tr", {}, el("td", { colspan: 9, class: "muted", text: "No decisions match." }))]));
    const last = Math.min(data.offset + data.items.length, data.total);
    $("audit-status").textContent = data.total ? `Showing ${data.offset + 1}–${last} of ${data.total} decisions.` : "";
    $("audit-prev").disabled = data.offset === 0;
    $("audit-next").disabled = last >= data.total;
  } catch (exc) {
    $("audit-status").textContent = exc.message;
  }
}

/** The filter form, Clear, and previous/next page buttons. */
export function wireAudit() {
  $("audit-filter").addEventListener("submit", (event) => { event.preventDefault(); state.auditOffset = 0; loadAudit(); });
  $("f-clear").addEventListener("click", () => {
    for (const [, id] of FILTERS) $(id).value = "";
    state.auditOffset = 0;
    loadAudit();
  });
  $("audit-prev").addEventListener("click", () => { state.auditOffset = Math.max(0, state.auditOffset - AUDIT_PAGE); loadAudit(); });
  $("audit-next").addEventListener("click", () => { state.auditOffset += AUDIT_PAGE; loadAudit(); });
}
