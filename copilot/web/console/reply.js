/* Agent console: owning the conversation — claim, release, reply to the customer. */
import { $, toast } from "../shared/dom.js";
import { api, conv } from "./api.js";
import { renderState } from "./conversation.js";
import { refreshQueue } from "./queue.js";
import { showError } from "./views.js";

/** Run a button's `work` with the button disabled; its error goes to `errorBox`; then re-render the state. */
export async function runAction(button, work, errorBox) {
  button.disabled = true;
  showError(errorBox, null);
  try { await work(); } catch (err) { showError(errorBox, err); } finally { renderState(); }
}

export async function claim() {
  await runAction($("claim-btn"), async () => {
    await api("POST", conv("/claim"));
    toast("Claimed — the bot is paused.");
    await refreshQueue();
    $("reply-text").focus();
  }, "conv-error");
}

export async function release() {
  await runAction($("release-btn"), async () => {
    await api("POST", conv("/release"));
    toast("Handed back to the bot.");
    await refreshQueue();
  }, "conv-error");
}

/** Cancel the bot's running turn (it ends with turn.completed {cancelled}; claiming cancels it too). */
export async function stopBot() {
  await runAction($("stop-bot-btn"), async () => {
    const { cancelled, kept = [] } = await api("POST", conv("/cancel"));
    const stopped = cancelled.length ? "The bot's turn was stopped." : "The bot is not running a turn.";
    // a change the customer confirmed is not cancelled: it is being made, then its turn ends
    toast(kept.length ? `${cancelled.length ? stopped + " " : ""}${kept[0].message}` : stopped);
  }, "conv-error");
  $("stop-bot-btn").disabled = false; // renderState does not manage it: the agent can stop a later turn too
}

/** Send `text` to the customer as the agent (throws when it is blank); `citations` ([{id, title}]) become
    the message's help-center links. */
export async function sendReply(text, citations = []) {
  const clean = text.trim();
  if (!clean) throw new Error("Write a reply first.");
  await api("POST", conv("/agent-messages"), { text: clean, citations });
}

export async function onReply(event) {
  event.preventDefault();
  await runAction($("reply-send"), async () => {
    await sendReply($("reply-text").value);
    $("reply-text").value = "";
  }, "conv-error");
}
