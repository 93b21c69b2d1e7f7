/* Policy admin: the rules editor — a draft copy of the active rules, edited as rows or as CSV. */
import { $, el } from "../shared/dom.js";
import { ruleKey, ruleText, state } from "./state.js";

const FIELDS = {
  p: ["role", "tenant (* = all)", "tool or pattern", "action (call)", "effect (allow|deny)"],
  g: ["role", "parent role", "tenant (* = all)"],
  p2: ["role", "tenant (* = all)", "key (scope|max_refund)", "value"],
};

/** Start over from the active policy's rules (drops edits and acknowledgements). */
export function resetDraft() {
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
export function proposedBody() {
  if (state.mode === "csv") return { csv: $("csv-text").value };
  return { rules: state.draft.filter((r) => r.some((v) => v !== "")) };
}

/** The draft vs the active rules: {added, removed} rule keys. */
export function changes() {
  const before = new Set(state.policy.rules.map(ruleKey));
  const after = new Set(currentRules().filter((r) => r.length > 1).map(ruleKey));
  return {
    added: [...after].filter((k) => !before.has(k)),
    removed: [...before].filter((k) => !after.has(k)),
  };
}

/** Show whether the draft differs from the active version (enables what needs changes); returns it. */
export function markDirty() {
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

/** Render the draft's rows (those matching the filter box). */
export function renderRows() {
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

/** Switch between the rows and CSV editors, carrying the draft over. */
export function setMode(mode) {
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

/** Append an empty allow rule and focus its first field. */
export function addRule() {
  state.draft.push(["p", "", "*", "", "call", "allow"]);
  $("rule-filter").value = "";
  renderRows();
  markDirty();
  const inputs = $("rules-table").tBodies[0].lastElementChild.querySelectorAll("input");
  inputs[0].focus();
}
