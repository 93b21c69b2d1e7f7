/* Support Copilot consoles: DOM helpers shared by the agent and admin consoles. Text always goes in as text
   nodes or attributes (never innerHTML), so server data is escaped by construction. */

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** An element: `attrs` may hold class, text, on<event> handlers and attributes (null/undefined/false are
    skipped, true is an empty attribute); children (nested arrays allowed) are nodes or text. */
export function el(tag, attrs, ...children) {
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

/** A short message in the page's #toast box for 3.5 s. */
export function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(box._timer);
  box._timer = setTimeout(() => box.classList.remove("show"), 3500);
}
