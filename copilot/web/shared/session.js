/* Support Copilot consoles: token sign-in shared by the agent and admin consoles. The token is pasted by the
   user, kept in this tab's sessionStorage, and its claims are read (not verified: the server does that). */
import { $ } from "./dom.js";

/** The (unverified) claims of a JWT: {sub, role, tenant, ...}; throws when it is not a JWT. */
export function decodeToken(token) {
  const part = token.split(".")[1];
  if (!part) throw new Error("That is not a token: expected three dot-separated parts.");
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(json);
}

/** The token remembered under `key` in sessionStorage: {load, save, clear}. */
export function tokenStore(key) {
  return {
    load: () => sessionStorage.getItem(key),
    save: (token) => sessionStorage.setItem(key, token),
    clear: () => sessionStorage.removeItem(key),
  };
}

/** Show the app signed in as `whoami`, or (whoami null) the sign-in form with `message`, focused. */
export function showSignedIn(whoami, message) {
  const signedIn = whoami !== null;
  $("signin-view").hidden = signedIn;
  $("app-view").hidden = !signedIn;
  $("signout").hidden = !signedIn;
  $("whoami").textContent = whoami || "";
  if (signedIn) return;
  $("signin-error").textContent = message || "";
  $("token-input").focus();
}

/** Wire the sign-in form to `signIn(token)` (sync or async; its error is shown) and the sign-out button. */
export function wireSignIn(signIn, signOut) {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    try {
      await signIn($("token-input").value.trim());
    } catch (err) {
      $("signin-error").textContent = err.message;
    }
  });
  $("signout").addEventListener("click", () => signOut(""));
}
