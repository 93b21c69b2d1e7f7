/* Policy admin: the page's state (the active policy, the draft being edited) and rule helpers. */

export const ROLES = ["guest", "customer", "agent", "supervisor", "admin"];

export const state = {
  token: null, // the pasted admin token
  me: null, // {user, role, tenant} from its claims
  policy: null, // the active policy (GET /v1/policy)
  etag: null, // its ETag (If-Match on save and rollback)
  tools: [], // every tool name known from the schemas, the roles table and the rules
  schemas: new Map(), // tool name -> tool with JSON Schema (GET /v1/tools?all=true)
  draft: [], // the rules being edited, as rows
  mode: "rows", // "rows" | "csv" editor
  ack: new Set(), // ids of the warnings the admin acknowledged
  auditOffset: 0,
  lastExample: "", // the simulator arguments last filled in
  seq: 0, // unique ids for acknowledgement checkboxes
};

export const ruleText = (rule) => rule.join(", ");
export const ruleKey = (rule) => rule.map((v) => String(v).trim()).join(",");

/** A short local date and time of an ISO timestamp. */
export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso || "");
  return d.toLocaleString([], { dateStyle: "short", timeStyle: "medium", hour12: false });
}
