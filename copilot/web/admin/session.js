/* Admin console: sign in with a pasted token — a tenant's admin (checked by loading the policy) or the platform
   admin (checked by listing the tenants; analytics only) — and sign out. */
import { $ } from "../shared/dom.js";
import { decodeToken, showSignedIn, tokenStore } from "../shared/session.js";
import { selectTab } from "../shared/tabs.js";
import { initAnalytics, loadAnalytics } from "./analytics.js";
import { resetDraft } from "./editor.js";
import { refreshAll } from "./history.js";
import { loadPolicy } from "./roles.js";
import { state } from "./state.js";

export const savedToken = tokenStore("copilot.admin.token");
// A tenant's own: the platform admin manages tenants and reads analytics, not one tenant's policy or prompts.
const POLICY_TABS = ["tab-roles", "tab-edit", "tab-sim", "tab-history", "tab-prompts", "tab-audit"];

function adminsOnly(claims) {
  return `Admins only: this console manages the authorization policy. Your token is for ` +
    `${claims.role}:${claims.sub}@${claims.tenant}; sign in with an admin token ` +
    `(copilot token --role admin --user root).`;
}

/** Sign in with `token`: throws (with what to do) unless the server accepts it as an admin's. */
export async function signIn(token, onShow) {
  const claims = decodeToken(token);
  const platform = claims.role === "platform";
  state.token = token;
  state.me = { user: claims.sub, role: claims.role, tenant: claims.tenant };
  try {
    if (platform) await initAnalytics();
    else await loadPolicy();
  } catch (exc) {
    state.token = null;
    state.me = null;
    if (exc.status === 403) throw new Error(adminsOnly(claims));
    if (exc.status === 401) throw new Error(`This token was refused: ${exc.message}`);
    throw exc;
  }
  savedToken.save(token);
  showSignedIn(`${claims.role}:${claims.sub}@${claims.tenant}`);
  for (const id of POLICY_TABS) $(id).hidden = platform;
  if (platform) {
    $("active-badge").textContent = "Platform admin · analytics of every tenant";
    selectTab($("tab-analytics"), onShow, false);
    return;
  }
  $("sim-tenant").value = claims.tenant;
  await initAnalytics();
  resetDraft();
  refreshAll();
  if ($("tab-analytics").getAttribute("aria-selected") === "true") loadAnalytics();
}

/** Forget the token and show the sign-in form with `message`. */
export function showSignIn(message) {
  state.token = null;
  state.me = null;
  state.schemas = new Map();
  savedToken.clear();
  $("active-badge").textContent = "";
  showSignedIn(null, message);
}
