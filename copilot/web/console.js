/* Support Copilot agent console: queue, live conversation (SSE over fetch), copilot assist, audit trail and
   the supervisors' approvals inbox. Vanilla JS, no build step, no external requests. */
(() => {
  "use strict";

  const TOKEN_KEY = "copilot.console.token";
  const QUEUE_POLL_MS = 3000;
  const APPROVALS_POLL_MS = 5000;
  const STAFF = ["agent", "supervisor", "admin"];
  const APPROVERS = ["supervisor", "admin"];

  const state = {
    token: null, me: null, items: new Map(), selected: null, gen: 0, lastSeq: 0,
    stream: null, timers: [], assistTimer: 0, streaming: new Map(), tools: new Map(), lastUser: null,
    catalog: new Map(), lastTemplate: "",
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
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function decodeToken(token) {
    const part = token.split(".")[1];
    if (!part) throw new Error("That is not a token: expected three dot-separated parts.");
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    return JSON.parse(json);
  }

  function ago(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }

  function clock(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso || "") : d.toLocaleTimeString([], { hour12: false });
  }

  function toast(message) {
    const box = $("toast");
    box.textContent = message;
    box.classList.add("show");
    clearTimeout(box._timer);
    box._timer = setTimeout(() => box.classList.remove("show"), 3500);
  }

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const err = (data && data.error) || {};
      if (res.status === 401) signOut(err.message || "Your token was refused; paste a new one.");
      throw new ApiError(res.status, err.code || String(res.status), err.message || `HTTP ${res.status}`);
    }
    return data;
  }

  const conv = (suffix) => `/v1/conversations/${encodeURIComponent(state.selected)}${suffix}`;
  const listOf = (data, key) => (Array.isArray(data) ? data : (data && data[key]) || []);

  function showError(where, err) {
    $(where).textContent = err ? err.message || String(err) : "";
  }

  function formatValue(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "object") return JSON.stringify(value, null, 2);
    return String(value);
  }

  function keyValues(obj, className) {
    const dl = el("dl", { class: className || "kv" });
    for (const [key, value] of Object.entries(obj || {})) {
      const shown = formatValue(value);
      dl.append(el("dt", { text: key }), el("dd", {}, shown.includes("\n") ? el("pre", { text: shown }) : shown));
    }
    return dl;
  }

  // ---------------------------------------------------------------- sign-in
  function signIn(token) {
    const claims = decodeToken(token);
    if (!STAFF.includes(claims.role)) {
      throw new Error(`This token is for a ${claims.role}; the console needs an agent or supervisor token.`);
    }
    state.token = token;
    state.me = { user: claims.sub, role: claims.role, tenant: claims.tenant };
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin-view").hidden = true;
    $("app-view").hidden = false;
    $("signout").hidden = false;
    $("whoami").textContent = `${state.me.user} · ${state.me.role} · tenant ${state.me.tenant}`;
    state.timers.push(setInterval(refreshQueue, QUEUE_POLL_MS), setInterval(refreshApprovals, APPROVALS_POLL_MS));
    refreshQueue();
    refreshApprovals();
    loadCatalog();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.timers.forEach(clearInterval);
    state.timers = [];
    closeConversation();
    $("conv-body").hidden = true;
    $("side").hidden = true;
    $("conv-empty").hidden = false;
    state.token = null;
    state.me = null;
    state.catalog = new Map();
    $("run-tool").replaceChildren();
    $("app-view").hidden = true;
    $("signout").hidden = true;
    $("whoami").textContent = "";
    $("signin-view").hidden = false;
    $("signin-error").textContent = message || "";
    $("token-input").focus();
  }

  // ---------------------------------------------------------------- queue
  async function refreshQueue() {
    if (!state.token) return;
    const team = $("queue-team").value;
    const query = new URLSearchParams({ status: "all" });
    if (team) query.set("team", team);
    try {
      const data = await api("GET", `/v1/handoffs?${query}`);
      const items = listOf(data, "handoffs");
      state.items = new Map(items.map((item) => [item.conversation_id, item]));
      renderQueue(items);
      $("queue-status-line").textContent = `Updated ${clock(new Date().toISOString())}`;
      if (state.selected) renderState();
    } catch (err) {
      $("queue-status-line").textContent = `Queue unavailable: ${err.message}`;
    }
  }

  function renderTeams(items) {
    const select = $("queue-team");
    const known = new Set([...select.options].map((o) => o.value));
    for (const team of new Set(items.map((i) => i.team).filter(Boolean))) {
      if (!known.has(team)) select.append(el("option", { value: team, text: team }));
    }
  }

  function renderQueue(items) {
    renderTeams(items);
    const filter = $("queue-status").value;
    const shown = items
      .filter((i) => (filter === "open" ? i.status !== "closed" : i.status === filter))
      .sort((a, b) => (b.waiting_seconds || 0) - (a.waiting_seconds || 0));
    $("queue-count").textContent = String(items.filter((i) => i.status === "waiting").length);
    const list = $("queue-list");
    const focused = document.activeElement && document.activeElement.dataset.conversation;
    list.replaceChildren(...shown.map(queueRow));
    if (!shown.length) list.append(el("li", { class: "muted empty-row", text: "No conversations here." }));
    if (focused) {
      const again = list.querySelector(`[data-conversation="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function queueRow(item) {
    const summary = item.summary || {};
    const selected = item.conversation_id === state.selected;
    const who = item.status === "claimed" ? `claimed by ${claimedUser(item) || "?"}` : item.status;
    return el("li", {},
      el("button", {
        type: "button", class: `queue-item${selected ? " selected" : ""}`, "data-conversation": item.conversation_id,
        "aria-current": selected ? "true" : null, onclick: () => select(item.conversation_id),
      },
      el("span", { class: "qi-top" },
        el("strong", { title: item.customer || null, text: item.customer || summary.customer || "guest" }),
        el("span", { class: "muted wait", text: `${item.status === "waiting" ? "waiting" : "waited"} ${ago(item.waiting_seconds || 0)}` })),
      el("span", { class: "qi-intent", text: summary.intent || item.reason || "—" }),
      el("span", { class: "qi-bottom" },
        el("span", { class: "tag", text: item.team || "general" }),
        el("span", { class: `pill ${item.status}`, text: who }))));
  }

  // ---------------------------------------------------------------- conversation
  function closeConversation() {
    state.gen += 1;
    if (state.stream) state.stream.abort();
    state.stream = null;
    state.selected = null;
    state.streaming.clear();
    state.tools.clear();
    state.lastUser = null;
    clearTimeout(state.assistTimer);
  }

  function select(conversationId) {
    closeConversation();
    state.selected = conversationId;
    state.lastSeq = 0;
    $("conv-empty").hidden = true;
    $("conv-body").hidden = false;
    $("side").hidden = false;
    $("transcript").replaceChildren();
    $("tool-output").replaceChildren();
    $("run-output").replaceChildren();
    showError("conv-error", null);
    showError("run-error", null);
    const picked = state.items.get(conversationId);
    $("conv-title").textContent = picked ? `${picked.customer} · conversation` : "Conversation";
    document.querySelectorAll(".queue-item").forEach((b) => {
      const on = b.dataset.conversation === conversationId;
      b.classList.toggle("selected", on);
      if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
    });
    renderState();
    refreshTemplate(true);
    const gen = state.gen;
    const controller = new AbortController();
    state.stream = controller;
    follow(conversationId, gen, controller.signal);
    loadAudit();
    loadAssist();
  }

  function currentItem() {
    return state.items.get(state.selected) || null;
  }

  /** The claiming agent's user id (the API may send `role:user@tenant` or the bare user id). */
  function claimedUser(item) {
    return item && item.claimed_by ? shortPrincipal(item.claimed_by) : "";
  }

  function renderState() {
    const item = currentItem();
    const status = item ? item.status : "not queued";
    const mine = Boolean(item && item.status === "claimed" && claimedUser(item) === state.me.user);
    const pill = $("conv-state");
    pill.textContent = item && item.status === "claimed" ? `claimed by ${claimedUser(item)}` : status;
    pill.className = `pill ${item ? item.status : ""}`;
    $("claim-btn").hidden = mine;
    $("claim-btn").disabled = Boolean(item && item.status === "claimed");
    $("release-btn").hidden = !mine;
    $("reply-send").disabled = !mine;
    $("draft-send").disabled = !mine;
    $("reply-hint").textContent = mine ? "You own this conversation; the bot is paused."
      : "Claim the conversation to reply; the bot stays paused while you own it.";
    const summary = (item && item.summary) || {};
    $("conv-meta").textContent = [
      state.selected,
      item && item.team ? `team ${item.team}` : null,
      item && item.reason ? `reason: ${item.reason}` : null,
    ].filter(Boolean).join(" · ");
    renderSummary(summary, item);
  }

  function renderSummary(summary, item) {
    const dl = $("summary");
    const rows = [
      ["Customer", summary.customer || (item && item.customer) || "—"],
      ["Intent", summary.intent || "—"],
      ["What was tried", summary.tried],
      ["Tool results", summary.tool_results],
      ["Open previews", summary.open_previews],
    ];
    dl.replaceChildren(...rows.flatMap(([label, value]) => [el("dt", { text: label }), el("dd", {}, summaryValue(value))]));
  }

  function summaryValue(value) {
    if (value === undefined || value === null || (Array.isArray(value) && !value.length)) return "none";
    if (!Array.isArray(value)) return formatValue(value);
    return el("ul", {}, value.map((entry) => el("li", {}, typeof entry === "object" ? describeEntry(entry) : String(entry))));
  }

  /** A tool result or open preview: "tool — outcome", its detail folded away (results can be long JSON). */
  function describeEntry(entry) {
    const head = [entry.tool, entry.outcome].filter(Boolean).join(" — ") || entry.preview_id || "entry";
    const detail = entry.summary || entry.detail || entry.message;
    if (!detail) return head;
    return el("details", {}, el("summary", { text: head }), el("pre", { text: prettyJson(detail) }));
  }

  function prettyJson(text) {
    try { return JSON.stringify(JSON.parse(text), null, 1); } catch (err) { return String(text); }
  }

  // ---------------------------------------------------------------- live events (fetch + SSE parser)
  async function follow(conversationId, gen, signal) {
    let delay = 500;
    while (!signal.aborted && gen === state.gen) {
      try {
        const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
        if (state.lastSeq > 0) headers["Last-Event-ID"] = String(state.lastSeq);
        const res = await fetch(`/v1/conversations/${encodeURIComponent(conversationId)}/events`,
          { headers, signal, cache: "no-store" });
        if (res.status === 401 || res.status === 403 || res.status === 404) {
          const body = await res.json().catch(() => ({}));
          showError("conv-error", new Error((body.error && body.error.message) || `HTTP ${res.status}`));
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        delay = 500;
        await readStream(res.body, gen);
      } catch (err) {
        if (signal.aborted) return;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
    }
  }

  async function readStream(body, gen) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || gen !== state.gen) return;
      buffer += value;
      const held = buffer.endsWith("\r") ? "\r" : "";
      buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        dispatchBlock(buffer.slice(0, cut), gen);
        buffer = buffer.slice(cut + 2);
      }
      buffer += held;
    }
  }

  function dispatchBlock(block, gen) {
    let id = null, type = "message", data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    if (id === null || gen !== state.gen) return;
    const seq = Number.parseInt(id, 10);
    if (!(seq > state.lastSeq)) return;
    state.lastSeq = seq;
    let payload = {};
    try { payload = JSON.parse(data.join("\n") || "{}"); } catch (err) { payload = { text: data.join("\n") }; }
    onEvent(type, payload, seq);
  }

  const TOOL_EVENTS = ["tool.requested", "tool.executed", "tool.preview", "tool.denied", "tool.invalid", "tool.error"];
  const NOTES = {
    "handoff.requested": (d) => `Handoff requested${d.reason ? ` (${d.reason})` : ""}`,
    "handoff.queued": (d) => `Queued for a human${d.team ? ` · team ${d.team}` : ""}`,
    "handoff.claimed": (d) => `${d.agent || "An agent"} joined the conversation`,
    "handoff.released": (d) => `Handed back to the bot${d.agent ? ` by ${d.agent}` : ""}`,
    "approval.requested": (d) => `Approval requested: ${d.summary || d.tool || ""}`,
    "approval.decided": (d) => `Approval ${d.approved === false ? "rejected" : "approved"}${d.decided_by ? ` by ${d.decided_by}` : ""}`,
    error: (d) => `Error: ${d.message || d.code || "unknown"}`,
  };

  function onEvent(type, data, seq) {
    if (type === "message.delta") return onDelta(data);
    if (type === "message.completed") return onCompleted(data);
    if (type === "turn.started") return onTurnStarted(data);
    if (type === "message.user") {
      state.lastUser = { text: data.text, seq };
      addMessage("user", data.text, {});
      scheduleAssist();
      return;
    }
    if (type === "agent.message") return addMessage("agent", data.text, { who: data.agent });
    if (type === "turn.completed") return dropStreaming(data.turn_id);
    if (TOOL_EVENTS.includes(type)) { addTool(type, data); loadAudit(); return; }
    if (NOTES[type]) {
      addNote(NOTES[type](data), type);
      if (type.startsWith("handoff.")) refreshQueue();
      if (type.startsWith("approval.")) refreshApprovals();
    }
  }

  function onTurnStarted(data) {
    if (data.resume) {
      addNote(`Customer ${data.resume.approved ? "confirmed" : "cancelled"} a preview`, "turn.started");
    }
    if (typeof data.text !== "string") return;
    const last = state.lastUser;
    if (last && last.text === data.text && state.lastSeq - last.seq <= 2) return; // already shown as message.user
    addMessage("user", data.text, {});
    scheduleAssist();
  }

  function onDelta(data) {
    const key = data.message_id || data.turn_id || "live";
    let bubble = state.streaming.get(key);
    if (!bubble) {
      bubble = addMessage("assistant", "", { streaming: true, turn: data.turn_id });
      state.streaming.set(key, bubble);
    }
    bubble.querySelector(".text").textContent += data.text || "";
  }

  function dropStreaming(turnId) {
    for (const [key, bubble] of state.streaming) {
      if (!turnId || bubble.dataset.turn === turnId) { bubble.remove(); state.streaming.delete(key); }
    }
  }

  function onCompleted(data) {
    dropStreaming(data.turn_id);
    addMessage("assistant", data.text || "", { citations: data.citations });
  }

  const ROLE_LABEL = { user: "Customer", assistant: "Copilot", agent: "Agent" };

  function addMessage(role, text, opts) {
    const who = role === "agent" && opts.who ? `Agent ${opts.who}` : ROLE_LABEL[role];
    const item = el("li", { class: `msg ${role}${opts.streaming ? " streaming" : ""}`, "data-turn": opts.turn || null },
      el("span", { class: "who", text: who }),
      el("p", { class: "text", text }),
      citationList(opts.citations));
    appendToTranscript(item);
    if (text) refreshTemplate(false);
    return item;
  }

  function citationList(citations) {
    if (!Array.isArray(citations) || !citations.length) return null;
    return el("ul", { class: "citations", "aria-label": "Sources" }, citations.map((c) => {
      const id = typeof c === "string" ? c : c.id;
      const title = typeof c === "string" ? "" : c.title || "";
      const doc = String(id).split("#")[0];
      return el("li", {}, el("a", { href: `/help/${encodeURIComponent(doc)}`, target: "_blank", rel: "noopener" },
        el("cite", { text: title ? `${title} [${id}]` : id })));
    }));
  }

  /** One line per tool call: created by tool.requested (arguments), updated in place by its outcome. */
  function addTool(type, data) {
    const outcome = type.slice("tool.".length);
    const known = data.call_id && state.tools.get(data.call_id);
    const details = known || el("details", {});
    details.className = `tool ${outcome}`;
    const detail = data.summary || data.message || "";
    const head = el("summary", {}, el("span", { class: "tool-name", text: data.tool || "tool" }), ` ${outcome}`,
      detail ? ` — ${short(detail, 120)}` : "");
    if (details.firstChild) details.firstChild.replaceWith(head); else details.append(head);
    if (type === "tool.requested") details.append(el("pre", { "aria-label": "Arguments", text: formatValue(data.arguments) }));
    if (type === "tool.executed") details.append(el("pre", { "aria-label": "Result", text: formatValue(data.result) }));
    if (type === "tool.preview") details.append(el("p", { class: "small", text: detail }), changesView(data.changes) || "");
    if (data.call_id) state.tools.set(data.call_id, details);
    if (!known) appendToTranscript(el("li", { class: "activity" }, details));
  }

  function addNote(text, type) {
    appendToTranscript(el("li", { class: `note ${type.replace(".", "-")}`, text }));
  }

  function appendToTranscript(node) {
    const list = $("transcript");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(node);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- actions
  async function runAction(button, work, errorBox) {
    button.disabled = true;
    showError(errorBox, null);
    try { await work(); } catch (err) { showError(errorBox, err); } finally { renderState(); }
  }

  async function claim() {
    await runAction($("claim-btn"), async () => {
      await api("POST", conv("/claim"));
      toast("Claimed — the bot is paused.");
      await refreshQueue();
      $("reply-text").focus();
    }, "conv-error");
  }

  async function release() {
    await runAction($("release-btn"), async () => {
      await api("POST", conv("/release"));
      toast("Handed back to the bot.");
      await refreshQueue();
    }, "conv-error");
  }

  async function sendReply(text) {
    const clean = text.trim();
    if (!clean) throw new Error("Write a reply first.");
    await api("POST", conv("/agent-messages"), { text: clean });
  }

  async function onReply(event) {
    event.preventDefault();
    await runAction($("reply-send"), async () => {
      await sendReply($("reply-text").value);
      $("reply-text").value = "";
    }, "conv-error");
  }

  // ---------------------------------------------------------------- audit
  async function loadAudit() {
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

  /** `role:user@tenant` → `user`. */
  function shortPrincipal(label) {
    const raw = String(label || "?");
    return raw.includes(":") ? raw.split(":").slice(1).join(":").replace(/@[^@]*$/, "") : raw;
  }

  // ---------------------------------------------------------------- copilot assist
  function scheduleAssist() {
    clearTimeout(state.assistTimer);
    state.assistTimer = setTimeout(loadAssist, 800);
  }

  async function loadAssist() {
    if (!state.selected) return;
    const id = state.selected;
    const draftBox = $("assist-draft");
    draftBox.replaceChildren(el("p", { class: "muted", text: "Drafting…" }));
    try {
      const data = await api("GET", conv("/assist"));
      if (id !== state.selected) return;
      renderDraft(data.draft || null);
      renderSuggestions(data.suggested_actions || []);
    } catch (err) {
      draftBox.replaceChildren(el("p", { class: "error", text: `Assist unavailable: ${err.message}` }));
    }
  }

  function renderDraft(draft) {
    const box = $("assist-draft");
    box.dataset.text = draft && draft.text ? draft.text : "";
    if (!box.dataset.text) {
      box.replaceChildren(el("p", { class: "muted", text: "No draft." }));
    } else {
      box.replaceChildren(el("p", { class: "draft-text", text: draft.text }), citationList(draft.citations) || "");
    }
    const has = Boolean(box.dataset.text);
    $("draft-edit").disabled = !has;
    $("draft-discard").disabled = !has;
    renderState();
    if (!has) $("draft-send").disabled = true;
  }

  function renderSuggestions(actions) {
    const box = $("assist-actions");
    if (!actions.length) {
      box.replaceChildren(el("p", { class: "muted", text: "No suggested actions." }));
      return;
    }
    box.replaceChildren(...actions.map((action) => el("button", {
      type: "button", class: "suggestion", title: `${action.tool} ${JSON.stringify(action.arguments || {})}`,
      onclick: (event) => runTool(event.currentTarget, action, $("tool-output"), "conv-error"),
    }, action.label || action.tool)));
  }

  /** Call a tool with the agent's own principal; the outcome (result, preview, denial) is rendered into `out`. */
  async function runTool(button, action, out, errorBox) {
    await runAction(button, async () => {
      out.replaceChildren(el("p", { class: "muted", text: `Running ${action.tool}…` }));
      try {
        const result = await api("POST", conv("/agent-tools"), { tool: action.tool, arguments: action.arguments || {} });
        renderToolResult(result, action.tool, out);
      } catch (err) {
        out.replaceChildren();
        throw err;
      }
      loadAudit();
    }, errorBox);
    button.disabled = false;
  }

  function normalize(result) {
    const outcome = result.outcome || result.status || (result.preview || result.preview_id ? "preview" : "executed");
    const preview = result.preview || (result.preview_id ? result : null);
    return { ...result, outcome, preview };
  }

  function renderToolResult(raw, toolName, out) {
    const result = normalize(raw || {});
    requestAnimationFrame(() => out.scrollIntoView({ block: "nearest" }));
    const title = el("h4", { text: `${result.tool || toolName}: ${result.outcome}` });
    if (result.approval_id) {
      out.replaceChildren(el("h4", { text: `${result.tool || toolName}: needs approval` }),
        el("p", { class: "approval-note", text: `Over your limit — approval request ${result.approval_id} was sent to a supervisor.` }),
        result.message ? el("p", { class: "muted small", text: result.message }) : null);
    } else if (result.outcome === "preview" && result.preview) {
      out.replaceChildren(title, previewCard(result.preview, out));
    } else if (result.outcome === "executed") {
      out.replaceChildren(title, resultView(result.result));
    } else if (result.outcome === "rejected") {
      out.replaceChildren(el("p", { class: "muted", text: "Cancelled; nothing changed." }));
    } else {
      out.replaceChildren(title, el("p", { class: "error", text: result.message || result.code || "Not executed." }));
    }
  }

  function resultView(value) {
    if (value && typeof value === "object" && !Array.isArray(value)) return keyValues(value, "kv result");
    return el("pre", { text: formatValue(value) });
  }

  function previewCard(preview, out) {
    const card = el("div", { class: "preview", role: "group", "aria-label": "Preview of the change" },
      el("p", { class: "preview-summary", text: `Please confirm: ${preview.tool} ${formatArgs(preview.arguments)}` }),
      preview.amount !== null && preview.amount !== undefined ? el("p", { text: `Amount: ${preview.amount}` }) : null,
      changesView(preview.changes),
      preview.summary ? el("details", {}, el("summary", { text: "Full summary" }), el("p", { class: "small", text: preview.summary })) : null);
    const confirmBtn = el("button", { type: "button", class: "primary", text: "Confirm" });
    const cancelBtn = el("button", { type: "button", text: "Cancel" });
    const decide = (approve) => runAction(approve ? confirmBtn : cancelBtn, async () => {
      confirmBtn.disabled = true;
      cancelBtn.disabled = true;
      const result = await api("POST", conv("/agent-confirmations"), { preview_id: preview.preview_id, approve });
      renderToolResult(result, preview.tool, out);
      loadAudit();
    }, "conv-error");
    confirmBtn.addEventListener("click", () => decide(true));
    cancelBtn.addEventListener("click", () => decide(false));
    card.append(el("div", { class: "row" }, confirmBtn, cancelBtn));
    return card;
  }

  function formatArgs(args) {
    return Object.entries(args || {}).map(([key, value]) => `${key}=${short(value, 40)}`).join(", ");
  }

  function changesView(changes) {
    if (!Array.isArray(changes) || !changes.length) return null;
    return el("ul", { class: "changes" }, changes.map((change) => el("li", {},
      el("strong", { text: `${change.kind} ${change.id}` }),
      el("ul", {}, Object.entries(change.changed || {}).map(([field, pair]) =>
        el("li", { text: `${field}: ${short(pair[0])} → ${short(pair[1])}` }))))));
  }

  function short(value, max = 60) {
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  async function draftSend() {
    const text = $("assist-draft").dataset.text || "";
    await runAction($("draft-send"), async () => {
      await sendReply(text);
      renderDraft(null);
    }, "conv-error");
  }

  function draftEdit() {
    $("reply-text").value = $("assist-draft").dataset.text || "";
    $("reply-text").focus();
  }

  // ---------------------------------------------------------------- run a tool
  /** The tools this agent's role may call (GET /v1/tools), for the Run-a-tool panel. */
  async function loadCatalog() {
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
  function refreshTemplate(force) {
    const tool = state.catalog.get($("run-tool").value);
    const box = $("run-args");
    $("run-tool-help").textContent = tool
      ? `${tool.description}${tool.side_effect === "write" ? " You confirm the preview before anything changes." : ""}`
      : "";
    if (!tool || !state.selected) return;
    if (!force && box.value.trim() && box.value !== state.lastTemplate) return;
    box.value = window.CopilotToolArgs.text(tool.parameters, argumentHints(tool));
    state.lastTemplate = box.value;
  }

  async function onRunTool(event) {
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

  // ---------------------------------------------------------------- approvals inbox
  async function refreshApprovals() {
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
      amount: item.amount, "requester's limit": item.limit, arguments: item.arguments, conversation: item.conversation_id,
    };
    if (decided) {
      Object.assign(facts, { "decided by": item.decided_by, "decided at": item.decided_at && clock(item.decided_at) });
      if (item.result) facts.result = item.result;
    }
    const row = el("li", { class: "card approval", "data-approval": id }, head, keyValues(facts));
    if (!decided && APPROVERS.includes(state.me.role)) {
      const approve = el("button", { type: "button", class: "primary", text: "Approve" });
      const reject = el("button", { type: "button", text: "Reject" });
      const decide = async (ok, button) => {
        button.disabled = true;
        try {
          await api("POST", `/v1/approvals/${encodeURIComponent(id)}`, { approve: ok });
          toast(ok ? "Approved and executed." : "Rejected.");
        } catch (err) { toast(err.message); }
        refreshApprovals();
      };
      approve.addEventListener("click", () => decide(true, approve));
      reject.addEventListener("click", () => decide(false, reject));
      row.append(el("div", { class: "row" }, approve, reject));
    }
    return row;
  }

  // ---------------------------------------------------------------- tabs + wiring
  function showTab(tab) {
    const tabs = [...document.querySelectorAll("[role=tab]")].filter((t) => !t.hidden);
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.id === "tab-approvals") refreshApprovals();
  }

  function onTabKey(event) {
    const tabs = [...document.querySelectorAll("[role=tab]")].filter((t) => !t.hidden);
    const index = tabs.indexOf(event.currentTarget);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length];
    next.focus();
    showTab(next);
  }

  function wire() {
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      try { signIn($("token-input").value.trim()); } catch (err) { $("signin-error").textContent = err.message; }
    });
    $("signout").addEventListener("click", () => signOut(""));
    $("queue-status").addEventListener("change", refreshQueue);
    $("queue-team").addEventListener("change", refreshQueue);
    $("claim-btn").addEventListener("click", claim);
    $("release-btn").addEventListener("click", release);
    $("reply-form").addEventListener("submit", onReply);
    $("reply-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-form").requestSubmit();
    });
    $("assist-refresh").addEventListener("click", loadAssist);
    $("draft-send").addEventListener("click", draftSend);
    $("draft-edit").addEventListener("click", draftEdit);
    $("draft-discard").addEventListener("click", () => renderDraft(null));
    $("approvals-status").addEventListener("change", refreshApprovals);
    $("run-form").addEventListener("submit", onRunTool);
    $("run-tool").addEventListener("change", () => {
      showError("run-error", null);
      $("run-args").removeAttribute("aria-invalid");
      refreshTemplate(true);
    });
    $("run-reset").addEventListener("click", () => refreshTemplate(true));
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => showTab(tab));
      tab.addEventListener("keydown", onTabKey);
    }
  }

  function start() {
    wire();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      try { signIn(saved); return; } catch (err) { sessionStorage.removeItem(TOKEN_KEY); }
    }
    signOut("");
  }

  start();
})();
