/* Policy admin: the prompt registry — the published system prompt and templates, edited and published as a new
   version (validated: required placeholders kept), the version history with who/why, line diffs between any
   version and the published one, and rollback (as a new version). Talks to /v1/prompts. */
import { $, el, toast } from "../shared/dom.js";
import { api } from "./api.js";
import { when } from "./state.js";

const prompts = { etag: null, version: 0, fields: [], templates: {} };

function editors() {
  return prompts.fields.map((f) => {
    const id = `prompt-${f.name}`;
    const places = [...f.required.map((p) => `{${p}} required`), ...f.optional.map((p) => `{${p}} optional`)];
    return el("div", { class: "prompt-field" },
      el("label", { for: id }, el("strong", { text: f.name }), ` — ${f.purpose}`),
      places.length ? el("p", { class: "muted small", text: `Placeholders: ${places.join(", ")}` }) : null,
      el("textarea", { id, rows: f.name === "system" ? 14 : 3, spellcheck: "false", "data-template": f.name }));
  });
}

function edited() {
  const out = {};
  for (const area of document.querySelectorAll("textarea[data-template]")) out[area.dataset.template] = area.value;
  return out;
}

export async function loadPrompts() {
  $("prompts-out").replaceChildren();
  try {
    const { data, etag } = await api("GET", "/v1/prompts");
    Object.assign(prompts, { etag, version: data.version, fields: data.fields, templates: data.templates });
    $("prompts-meta").textContent = `Published: version ${data.version} · ${when(data.created_at)} · ${data.author}`;
    $("prompt-fields").replaceChildren(...editors());
    for (const [name, text] of Object.entries(data.templates)) {
      const area = $(`prompt-${name}`);
      if (area) area.value = text;
    }
    await loadPromptHistory();
  } catch (exc) {
    $("prompts-out").replaceChildren(el("p", { class: "error", text: exc.message }));
  }
}

function problemsOf(exc) {
  const listed = exc.details.problems || [];
  return el("div", { class: "refused" }, el("p", { class: "error", text: exc.message }),
    listed.length > 1 ? el("ul", {}, listed.map((p) => el("li", { text: p }))) : null);
}

export async function validatePrompts() {
  let data;
  try {
    ({ data } = await api("POST", "/v1/prompts/validate", { templates: edited() }));
  } catch (exc) {
    $("prompts-out").replaceChildren(problemsOf(exc));
    return;
  }
  $("prompts-out").replaceChildren(data.valid
    ? el("p", { class: "ok", text: "Valid: every template keeps its required placeholders." })
    : el("div", { class: "refused" }, el("p", { class: "error", text: "Not valid:" }),
      el("ul", {}, data.problems.map((p) => el("li", { text: p })))));
}

export async function publishPrompts(event) {
  event.preventDefault();
  const message = $("prompt-message").value.trim();
  if (!message) { $("prompts-out").replaceChildren(el("p", { class: "error", text: "Say why in the message first." })); return; }
  try {
    const { data } = await api("PUT", "/v1/prompts", { templates: edited(), message }, { "If-Match": prompts.etag });
    $("prompt-message").value = "";
    toast(`Published prompts version ${data.version}`);
    await loadPrompts();
  } catch (exc) {
    $("prompts-out").replaceChildren(problemsOf(exc));
  }
}

function diffView(changed) {
  const names = Object.keys(changed);
  if (!names.length) return [el("p", { class: "muted small", text: "Same templates as the published version." })];
  return names.map((name) => el("div", { class: "prompt-diff" }, el("h4", { text: name }),
    el("pre", {}, changed[name].map((line) => el("span", {
      class: line.startsWith("+") && !line.startsWith("+++") ? "added" : line.startsWith("-") && !line.startsWith("---") ? "removed" : "",
      text: `${line}\n`,
    })))));
}

async function showDiff(v, out) {
  let data;
  try {
    ({ data } = await api("GET", `/v1/prompts/diff?base=${v.version}&version=${prompts.version}`));
  } catch (exc) {
    out.replaceChildren(problemsOf(exc));
    return;
  }
  out.replaceChildren(el("p", { class: "muted small", text: `Version ${v.version} → published version ${prompts.version}` }), ...diffView(data.changed));
}

async function rollback(v, out) {
  try {
    const { data } = await api("POST", "/v1/prompts/rollback", { version: v.version }, { "If-Match": prompts.etag });
    toast(`Rolled back: prompts version ${data.version} has version ${v.version}'s templates`);
    await loadPrompts();
  } catch (exc) {
    out.replaceChildren(problemsOf(exc));
  }
}

function historyItem(v, active) {
  const out = el("div", { class: "prompt-version-out", "aria-live": "polite" });
  const isActive = v.version === active;
  return el("li", { class: `card version${isActive ? " active" : ""}`, id: `prompt-version-${v.version}` },
    el("div", { class: "version-head" },
      el("h3", { class: "vnum", text: `Version ${v.version}` }),
      el("span", { class: `pill ${v.kind}`, text: v.rollback_of ? `rollback of v${v.rollback_of}` : v.kind }),
      isActive ? el("span", { class: "pill active", text: "published" }) : null,
      el("span", { class: "muted small", text: `${when(v.created_at)} · ${v.author}` }),
      el("span", { class: "spacer" }),
      isActive ? null : el("button", { type: "button", class: "small", text: `Diff v${v.version} → published`, onclick: () => showDiff(v, out) }),
      isActive ? null : el("button", { type: "button", class: "small", text: `Roll back to version ${v.version}`, onclick: () => rollback(v, out) })),
    el("p", { class: "message", text: `${v.message}${v.kind !== "seed" && v.changed.length ? ` (changed: ${v.changed.join(", ")})` : ""}` }),
    out);
}

async function loadPromptHistory() {
  const { data } = await api("GET", "/v1/prompts/versions?limit=50");
  $("prompt-history").replaceChildren(...data.versions.map((v) => historyItem(v, data.active)));
}
