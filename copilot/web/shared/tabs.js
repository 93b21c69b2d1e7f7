/* Support Copilot consoles: an ARIA tab list (click, ←/→, Home/End) over the page's visible [role=tab]s. */
import { $ } from "./dom.js";

const visibleTabs = () => [...document.querySelectorAll("[role=tab]")].filter((t) => !t.hidden);

/** Select `tab`: mark it selected, show its panel, hide the others; then `onShow(tab)`. */
export function selectTab(tab, onShow, focus) {
  for (const other of visibleTabs()) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  onShow(tab);
}

/** Make the tabs selectable by mouse and keyboard; `onShow(tab)` loads what the shown panel needs. */
export function wireTabs(onShow) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab, onShow, false));
    tab.addEventListener("keydown", (event) => {
      const tabs = visibleTabs();
      const index = tabs.indexOf(event.currentTarget);
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], onShow, true);
    });
  }
}
