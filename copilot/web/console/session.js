/* Agent console: sign in with a pasted staff token (agent, supervisor or admin), sign out. */
import { $ } from "../shared/dom.js";
import { decodeToken, showSignedIn, tokenStore } from "../shared/session.js";
import { refreshApprovals } from "./approvals.js";
import { closeConversation } from "./conversation.js";
import { refreshQueue } from "./queue.js";
import { loadCatalog } from "./runner.js";
import { STAFF, state } from "./state.js";

const QUEUE_POLL_MS = 3000;
const APPROVALS_POLL_MS = 5000;

export const savedToken = tokenStore("copilot.console.token");

/** Sign in with `token` (throws when it is not a staff token) and start polling the queue and approvals. */
export function signIn(token) {
  const claims = decodeToken(token);
  if (!STAFF.includes(claims.role)) {
    throw new Error(`This token is for a ${claims.role}; the console needs an agent or supervisor token.`);
  }
  state.token = token;
  state.me = { user: claims.sub, role: claims.role, tenant: claims.tenant };
  savedToken.save(token);
  showSignedIn(`${state.me.user} · ${state.me.role} · tenant ${state.me.tenant}`);
  state.timers.push(setInterval(refreshQueue, QUEUE_POLL_MS), setInterval(refreshApprovals, APPROVALS_POLL_MS));
  refreshQueue();
  refreshApprovals();
  loadCatalog();
}

/** Forget the token, stop polling, close the conversation and show the sign-in form with `message`. */
export function signOut(message) {
  savedToken.clear();
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
  showSignedIn(null, message);
}
