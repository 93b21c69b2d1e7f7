/* Agent console: the approvals inbox — writes over a requester's limit, approved or rejected by supervisors. */
import { $, el, toast } from "../shared/dom.js";
import { api, listOf } from "./api.js";
import { APPROVERS, state } from "./state.js";
import { clock, keyValues, sentencesView } from "./views.js";

/** Reload the approval requests with the selected status (GET /v1/approvals). */
export async function refreshApprovals() {
  if (!state.me) return;
  const status = $("approvals-status").value;
  try {
    const data = await api("GET", `/v1/approvals?status=${status}`);
    const items = listOf(data, "approvals");
    if (status === "pending") $("approvals-count").textContent = String(items.length);
    const who = APPROVERS.includes(state.me.role) ? "" : " Only supervisors can approve or reject.";
    $("approvals-note").textContent = (items.length ? "" : `No ${status} approval requests.`) + who;
    $("approvals-list").replaceChildren(...items.map(approvalRow));
  } catch (err) {
    $("approvals-note").textContent = `Approvals unavailable: ${err.message}`;
  }
}

function approvalRow(item) {
  const id = item.approval_id || item.id;
  const decided = item.status && item.status !== "pending";
  const head = el("div", { class: "approval-head" },
    el("strong", { text: `${item.tool}${item.amount !== null && item.amount !== undefined ? ` · ${item.amount}` : ""}` }),
    el("span", { class: `pill ${item.status || "pending"}`, text: item.status || "pending" }));
  const facts = {
    "requested by": item.requested_by, "requested at": item.created_at && clock(item.created_at),
    amount: item.amount, "requester's limit": item.limit, conversation: item.conversation_id,
  };
  if (decided) {
    Object.assign(facts, { "decided by": item.decided_by, "decided at": item.decided_at && clock(item.decided_at) });
    if (item.result) facts.result = item.result;
  }
  const what = el("div", { class: "preview", role: "group", "aria-label": "What the requester confirmed" },
    sentencesView(item.description, String(item.tool || "a change").replace(/_/g, " ")));
  const row = el("li", { class: "card approval", "data-approval": id }, head, what, keyValues(facts));
  if (!decided && APPROVERS.includes(state.me.role)) row.append(decisionButtons(id));
  return row;
}

function decisionButtons(id) {
  const approve = el("button", { type: "button", class: "primary", text: "Approve" });
  const reject = el("button", { type: "button", text: "Reject" });
  const decide = async (ok, button) => {
    button.disabled = true;
    try {
      await api("POST", `/v1/approvals/${encodeURIComponent(id)}`, { approve: ok });
      const done = await api("GET", `/v1/approvals?status=decided`);
      const mine = listOf(done, "approvals").find((a) => a.approval_id === id);
      const outcome = mine && mine.result ? mine.result.outcome : null;
      toast(!ok ? "Rejected." : outcome === "executed" ? "Approved and executed." : `Approved; not executed: ${(mine && mine.result && mine.result.message) || "see the result"}.`);
    } catch (err) { toast(err.message); }
    refreshApprovals();
  };
  approve.addEventListener("click", () => decide(true, approve));
  reject.addEventListener("click", () => decide(false, reject));
  return el("div", { class: "row" }, approve, reject);
}
