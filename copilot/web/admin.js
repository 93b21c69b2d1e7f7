/* Support Copilot policy admin console: roles × tools table, rules editor with validation, what-if simulator,
   decision diff, version history with rollback, audit log. Talks only to this server's /v1/policy API.
   Vanilla JS, no build step, no external requests. */
(() => {
  "use strict";

  const TOKEN_KEY = "copilot.admin.token";
  const AUDIT_PAGE = 25;
  const ROLES = ["guest", "customer", "agent", "supervisor", "admin"];
  const FIELDS = {
    p: ["role", "tenant (* = all)", "tool or pattern", "action (call)", "effect (allow|deny)"],
    g: ["role", "parent role", "tenant (* = all)"],
    p2: ["role", "tenant (* = all)", "key (scope|max_refund)", "value"],
  };
  /** Simulator templates are built from each tool's JSON Schema (GET /v1/tools?all=true); these demo-store
      values fill arguments of that name in any tool (the "User id" field wins for user_id). */
  const SAMPLE_VALUES = { order_id: "#W0000001", user_id: "demo_customer_0001" };

  const state = {
    token: null, me: null, policy: null, etag: null, tools: [], schemas: new Map(), draft: [], mode: "rows", ack: new Set(),
    auditOffset: 0, lastExample: "", seq: 0,
  };
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function decodeToken(token) {
    const part = token.split(".")[1];
    if (!part) throw new Error("That is not a token: expected three dot-separated parts.");
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    return JSON.parse(json);
  }

  function when(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso || "");
    return d.toLocaleString([], { dateStyle: "short", timeStyle: "medium", hour12: false });
  }

  const ruleText = (rule) => rule.join(", ");
  const ruleKey = (rule) => rule.map((v) => String(v).trim()).join(",");

  function toast(message) {
    const box = $("toast");
    box.textContent = message;
    box.classList.add("show");
    clearTimeout(box._timer);
    box._timer = setTimeout(() => box.classList.remove("show"), 3500);
  }

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message); this.status = status; this.code = code; this.details = details || {};
    }
  }

  async function api(method, path, body, extraHeaders) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json", ...(extraHeaders || {}) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = (data && data.error) || {};
      let message = err.message || `HTTP ${res.status}`;
      if (!err.message && Array.isArray(data && data.detail)) message = data.detail.map((d) => d.msg).join("; ");
      throw new ApiError(res.status, err.code || String(res.status), message, err.details);
    }
    return { data, etag: res.headers.get("ETag") };
  }

  function failOn(target, exc) {
    target.replaceChildren(el("p", { class: "error", text: exc.message }));
  }

  // ---------------------------------------------------------------- sign-in
  function adminsOnly(claims) {
    return `Admins only: this console manages the authorization policy. Your token is for ` +
      `${claims.role}:${claims.sub}@${claims.tenant}; sign in with an admin token ` +
      `(copilot token --role admin --user root).`;
  }

  async function signIn(token) {
    const claims = decodeToken(token);
    state.token = token;
    try {
      await loadPolicy();
    } catch (exc) {
      state.token = null;
      if (exc.status === 403) throw new Error(adminsOnly(claims));
      if (exc.status === 401) throw new Error(`This token was refused: ${exc.message}`);
      throw exc;
    }
    state.me = { user: claims.sub, role: claims.role, tenant: claims.tenant };
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin-view").hidden = true;
    $("app-view").hidden = false;
    $("signout").hidden = false;
    $("whoami").textContent = `${claims.role}:${claims.sub}@${claims.tenant}`;
    $("sim-tenant").value = claims.tenant;
    resetDraft();
    refreshAll();
  }

  function showSignIn(message) {
    state.token = null;
    state.schemas = new Map();
    sessionStorage.removeItem(TOKEN_KEY);
    $("app-view").hidden = true;
    $("signout").hidden = true;
    $("signin-view").hidden = false;
    $("whoami").textContent = "";
    $("active-badge").textContent = "";
    $("signin-error").textContent = message || "";
    $("token-input").focus();
  }

  // ---------------------------------------------------------------- active policy + roles table
  /** Every pack tool with its schema (policy administrators may list them all), for simulator templates. */
  async function loadSchemas() {
    if (state.schemas.size) return;
    try {
      const { data } = await api("GET", "/v1/tools?all=true");
      state.schemas = new Map((data.tools || []).map((tool) => [tool.name, tool]));
    } catch (exc) {
      state.schemas = new Map();  // not an admin (sign-in says so) or no gateway: templates fall back to {}
    }
  }

  async function loadPolicy() {
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
    $("active-badge").textContent = `Active: version ${p.version}`;
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

  // ---------------------------------------------------------------- editor
  function resetDraft() {
    state.draft = state.policy.rules.map((r) => [...r]);
    state.ack.clear();
    $("validate-out").replaceChildren();
    $("save-out").replaceChildren();
    $("csv-text").value = toCsv(state.draft);
    $("edit-base").textContent = `Editing a copy of version ${state.policy.version} (etag ${state.etag}).`;
    renderRows();
    markDirty();
  }

  function toCsv(rules) { return rules.map(ruleText).join("\n") + "\n"; }

  function fromCsv(text) {
    return text.split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(",").map((v) => v.trim()));
  }

  function currentRules() {
    if (state.mode === "csv") state.draft = fromCsv($("csv-text").value);
    return state.draft;
  }

  /** The body fragment for the proposed rules: csv text in CSV mode (the server reports parse errors), else rows. */
  function proposedBody() {
    if (state.mode === "csv") return { csv: $("csv-text").value };
    return { rules: state.draft.filter((r) => r.some((v) => v !== "")) };
  }

  function changes() {
    const before = new Set(state.policy.rules.map(ruleKey));
    const after = new Set(currentRules().filter((r) => r.length > 1).map(ruleKey));
    return {
      added: [...after].filter((k) => !before.has(k)),
      removed: [...before].filter((k) => !after.has(k)),
    };
  }

  function markDirty() {
    const { added, removed } = changes();
    const dirty = added.length + removed.length > 0;
    $("dirty-badge").hidden = !dirty;
    $("change-summary").textContent = dirty
      ? `Unsaved: ${added.length} rule(s) added, ${removed.length} removed vs version ${state.policy.version}.`
      : `No changes yet (version ${state.policy.version}).`;
    $("sim-on-proposed").disabled = !dirty;
    if (!dirty && document.querySelector("input[name=sim-on]:checked").value === "proposed") {
      document.querySelector("input[name=sim-on][value=active]").checked = true;
    }
    $("ddiff-btn").disabled = !dirty;
    return dirty;
  }

  function renderRows() {
    const filter = $("rule-filter").value.trim().toLowerCase();
    const body = $("rules-table").tBodies[0];
    const rows = state.draft.map((rule, index) => {
      if (filter && !ruleText(rule).toLowerCase().includes(filter)) return null;
      return ruleRow(rule, index);
    }).filter(Boolean);
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 7, class: "muted empty-row", text: filter ? `No rule matches “${filter}”.` : "No rules." })));
    body.replaceChildren(...rows);
  }

  function ruleRow(rule, index) {
    const ptype = rule[0] || "p";
    const names = FIELDS[ptype] || FIELDS.p;
    const type = el("select", { "aria-label": `Rule ${index + 1} type` },
      ["p", "g", "p2"].map((t) => el("option", { value: t, text: t })));
    type.value = ptype;
    type.addEventListener("change", () => {
      const size = (FIELDS[type.value] || FIELDS.p).length;
      state.draft[index] = [type.value, ...rule.slice(1, size + 1)];
      while (state.draft[index].length < size + 1) state.draft[index].push("");
      renderRows(); markDirty();
    });
    const cells = [0, 1, 2, 3, 4].map((i) => {
      if (i >= names.length) return el("td", {});
      const input = el("input", {
        type: "text", value: rule[i + 1] ?? "", placeholder: names[i], "aria-label": `Rule ${index + 1} ${names[i]}`,
        list: (ptype === "p" && i === 2) ? "tool-names" : null, spellcheck: "false",
      });
      input.addEventListener("input", () => { state.draft[index][i + 1] = input.value.trim(); markDirty(); });
      return el("td", {}, input);
    });
    const remove = el("button", {
      type: "button", class: "small ghost remove", "aria-label": `Remove rule ${ruleText(rule)}`, title: "Remove rule",
      text: "Remove",
      onclick: () => { state.draft.splice(index, 1); renderRows(); markDirty(); },
    });
    const effect = ptype === "p" ? ` rule-${rule[5]}` : ` rule-${ptype}`;
    return el("tr", { class: `rule${effect}`, "data-rule": ruleText(rule) }, el("td", {}, type), cells, el("td", {}, remove));
  }

  function setMode(mode) {
    if (mode === state.mode) return;
    if (mode === "csv") $("csv-text").value = toCsv(state.draft);
    else state.draft = fromCsv($("csv-text").value);
    state.mode = mode;
    $("rows-editor").hidden = mode !== "rows";
    $("csv-editor").hidden = mode !== "csv";
    $("rule-filter").hidden = $("add-rule").hidden = mode !== "rows";
    renderRows();
    markDirty();
  }

  // ---------------------------------------------------------------- validation + save
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

  function diffTable(diff) {
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

  async function validate() {
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

  /** Render a refused write (save or rollback) into `out`; `retry` re-sends after the admin ticks warnings. */
  function refused(out, exc) {
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

  async function save(event) {
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

  // ---------------------------------------------------------------- simulator + decision diff
  function setExample() {
    const tool = state.schemas.get($("sim-tool").value);
    const hints = { ...SAMPLE_VALUES, user_id: $("sim-user").value.trim() || SAMPLE_VALUES.user_id };
    const example = tool ? window.CopilotToolArgs.text(tool.parameters, hints) : "{}";
    const current = $("sim-args").value.trim();
    if (!current || current === state.lastExample.trim()) $("sim-args").value = example;
    state.lastExample = example;
  }

  const CHECKS = [["permission", "Permission"], ["validation", "Arguments"], ["ownership", "Ownership"], ["limit", "Limit"]];

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
      el("dt", { text: "Amount" }), el("dd", { text: sim.amount === null ? "—" : Number(sim.amount).toFixed(2) }));
    $("sim-result").replaceChildren(badge, facts, el("h4", { text: "Checks" }), checks);
  }

  async function simulate(event) {
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
      failOn($("sim-result"), exc);
    }
  }

  async function decisionDiff() {
    const out = $("ddiff-out");
    out.replaceChildren(el("p", { class: "muted", text: "Comparing…" }));
    try {
      const { data } = await api("POST", "/v1/policy/diff-decisions", proposedBody());
      out.replaceChildren(diffTable(data));
    } catch (exc) {
      failOn(out, exc);
    }
  }

  // ---------------------------------------------------------------- history + rollback
  function diffList(diff) {
    const items = [
      ...(diff.added || []).map((r) => el("li", { class: "added" }, el("span", { class: "sr-only", text: "added " }), "+ ", ruleText(r))),
      ...(diff.removed || []).map((r) => el("li", { class: "removed" }, el("span", { class: "sr-only", text: "removed " }), "− ", ruleText(r))),
    ];
    return items.length ? el("ul", { class: "rule-diff" }, items) : el("p", { class: "muted small", text: "No rule changes." });
  }

  function diffCount(diff) { return `+${(diff.added || []).length} −${(diff.removed || []).length}`; }

  async function loadHistory() {
    $("history-error").textContent = "";
    try {
      const { data } = await api("GET", "/v1/policy/versions?limit=50");
      $("history-list").replaceChildren(...data.versions.map((v) => historyItem(v, data.active)));
    } catch (exc) {
      $("history-error").textContent = exc.message;
    }
  }

  function historyItem(v, active) {
    const isActive = v.version === active;
    const out = el("div", { class: "rollback-out", role: "alert" });
    const item = el("li", { class: `card version${isActive ? " active" : ""}`, id: `version-${v.version}` },
      el("div", { class: "version-head" },
        el("h3", { class: "vnum", text: `Version ${v.version}` }),
        el("span", { class: `pill ${v.kind}`, text: v.rollback_of ? `rollback of v${v.rollback_of}` : v.kind }),
        isActive ? el("span", { class: "pill active", text: "active" }) : null,
        el("span", { class: "muted small", text: `${when(v.created_at)} · ${v.author}` }),
        el("span", { class: "spacer" }),
        isActive ? null : el("button", { type: "button", class: "small", text: `Roll back to version ${v.version}`,
          onclick: () => confirmRollback(v, out) })),
      el("p", { class: "message", text: v.message }),
      el("details", {}, el("summary", { text: `Diff vs parent (${diffCount(v.diff)})` }), diffList(v.diff)),
      out);
    return item;
  }

  function confirmRollback(v, out) {
    const input = el("input", { type: "text", value: `rollback to version ${v.version}`, "aria-label": "Rollback message" });
    const go = el("button", { type: "button", class: "primary small", text: "Confirm rollback", onclick: () => rollback(v, input.value, out) });
    out.replaceChildren(el("div", { class: "confirm" },
      el("p", { text: `Make version ${v.version}'s rules active again (as a new version)?` }), input, go,
      el("button", { type: "button", class: "small ghost", text: "Cancel", onclick: () => out.replaceChildren() })));
    go.focus();
  }

  async function rollback(v, message, out) {
    try {
      const { data } = await api("POST", "/v1/policy/rollback",
        { version: v.version, message: message.trim() || null, acknowledge: [...state.ack] }, { "If-Match": state.etag });
      await loadPolicy();
      resetDraft();
      toast(`Rolled back: version ${data.version} has version ${v.version}'s rules`);
      refreshAll();
    } catch (exc) {
      refused(out, exc);
      if (exc.details.warnings) {
        out.append(el("button", { type: "button", class: "small", text: "Try again", onclick: () => rollback(v, message, out) }));
      }
    }
  }

  // ---------------------------------------------------------------- audit
  async function loadChanges() {
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

  async function loadAudit() {
    const params = new URLSearchParams({ limit: String(AUDIT_PAGE), offset: String(state.auditOffset) });
    for (const [key, id] of [["tool", "f-tool"], ["principal", "f-principal"], ["outcome", "f-outcome"]]) {
      const value = $(id).value.trim();
      if (value) params.set(key, value);
    }
    try {
      const { data } = await api("GET", `/v1/audit?${params}`);
      $("audit-table").tBodies[0].replaceChildren(...(data.items.length ? data.items.map((a) => el("tr", {},
        el("td", { class: "nowrap", text: when(a.at) }), el("td", { text: a.principal }),
        el("td", {}, el("code", { text: a.tool })), el("td", { class: `outcome ${a.outcome}`, text: a.outcome }),
        el("td", { text: a.reason || a.code || "" }), el("td", { class: "nowrap", text: a.policy_version }),
        el("td", { class: "small", text: a.conversation_id || "" })))
        : [el("tr", {}, el("td", { colspan: 7, class: "muted", text: "No decisions match." }))]));
      const last = Math.min(data.offset + data.items.length, data.total);
      $("audit-status").textContent = data.total ? `Showing ${data.offset + 1}–${last} of ${data.total} decisions.` : "";
      $("audit-prev").disabled = data.offset === 0;
      $("audit-next").disabled = last >= data.total;
    } catch (exc) {
      $("audit-status").textContent = exc.message;
    }
  }

  function refreshAll() {
    loadHistory();
    loadChanges();
    loadAudit();
  }

  // ---------------------------------------------------------------- tabs
  function selectTab(tab, focus) {
    for (const other of document.querySelectorAll("[role=tab]")) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
    if (tab.id === "tab-audit") { loadChanges(); loadAudit(); }
    if (tab.id === "tab-history") loadHistory();
  }

  function onTabKey(event) {
    const tabs = [...document.querySelectorAll("[role=tab]")];
    const index = tabs.indexOf(event.currentTarget);
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
  }

  // ---------------------------------------------------------------- wiring
  function wire() {
    $("signin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("signin-error").textContent = "";
      try {
        await signIn($("token-input").value.trim());
        $("token-input").value = "";
      } catch (exc) {
        $("signin-error").textContent = exc.message;
      }
    });
    $("signout").addEventListener("click", () => showSignIn(""));
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => selectTab(tab, false));
      tab.addEventListener("keydown", onTabKey);
    }
    for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", () => setMode(radio.value));
    $("rule-filter").addEventListener("input", renderRows);
    $("add-rule").addEventListener("click", () => {
      state.draft.push(["p", "", "*", "", "call", "allow"]);
      $("rule-filter").value = "";
      renderRows();
      markDirty();
      const inputs = $("rules-table").tBodies[0].lastElementChild.querySelectorAll("input");
      inputs[0].focus();
    });
    $("reset-rules").addEventListener("click", () => { resetDraft(); toast("Edits discarded"); });
    $("csv-text").addEventListener("input", markDirty);
    $("validate-btn").addEventListener("click", validate);
    $("save-form").addEventListener("submit", save);
    $("sim-form").addEventListener("submit", simulate);
    $("sim-tool").addEventListener("change", setExample);
    $("ddiff-btn").addEventListener("click", decisionDiff);
    $("audit-filter").addEventListener("submit", (event) => { event.preventDefault(); state.auditOffset = 0; loadAudit(); });
    $("f-clear").addEventListener("click", () => {
      $("f-tool").value = ""; $("f-principal").value = ""; $("f-outcome").value = ""; state.auditOffset = 0; loadAudit();
    });
    $("audit-prev").addEventListener("click", () => { state.auditOffset = Math.max(0, state.auditOffset - AUDIT_PAGE); loadAudit(); });
    $("audit-next").addEventListener("click", () => { state.auditOffset += AUDIT_PAGE; loadAudit(); });
  }

  async function start() {
    wire();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (!saved) { showSignIn(""); return; }
    try {
      await signIn(saved);
    } catch (exc) {
      showSignIn(exc.message);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
