/* Policy admin: sign in with a pasted admin token (checked by loading the policy), sign out. */
import { $ } from "../shared/dom.js";
import { decodeToken, showSignedIn, tokenStore } from "../shared/session.js";
import { resetDraft } from "./editor.js";
import { refreshAll } from "./history.js";
import { loadPolicy } from "./roles.js";
import { state } from "./state.js";

export const savedToken = tokenStore("copilot.admin.token");

function adminsOnly(claims) {
  return `Admins only: this console manages the authorization policy. Your token is for ` +
    `${claims.role}:${claims.sub}@${claims.tenant}; sign in with an admin token ` +
    `(copilot token --role admin --user root).`;
}

/** Sign in with `token`: throws (with what to do) unless the server lets it read the policy. */
export async function signIn(token) {
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
  savedToken.save(token);
  showSignedIn(`${claims.role}:${claims.sub}@${claims.tenant}`);
  $("sim-tenant").value = claims.tenant;
  resetDraft();
  refreshAll();
}

/** Forget the token and show the sign-in form with `message`. */
export function showSignIn(message) {
  state.token = null;
  state.schemas = new Map();
  savedToken.clear();
  $("active-badge").textContent = "";
  showSignedIn(null, message);
}
