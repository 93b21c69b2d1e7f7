/* Agent console: the page's state (one tab, one signed-in staff member, at most one open conversation). */

export const STAFF = ["agent", "supervisor", "admin"];
export const APPROVERS = ["supervisor", "admin"];

export const state = {
  token: null, // the pasted staff token
  me: null, // {user, role, tenant} from its claims
  items: new Map(), // conversation_id -> handoff queue item
  selected: null, // the open conversation's id
  gen: 0, // bumped when a conversation closes; stale streams and loads check it
  lastSeq: 0, // the last event seq applied (Last-Event-ID on reconnect)
  stream: null, // AbortController of the open conversation's event stream
  timers: [], // queue + approvals polling intervals
  assistTimer: 0,
  askPending: false, // a question to the copilot is in flight
  draftChosen: false, // the draft is an answer the agent asked for or picked: automatic reloads keep it
  threadSeen: new Set(), // event ids already in the staff thread (history and live answers)
  assistRun: 0, // bumped by each assist load and by a discard (a stale answer is dropped)
  streaming: new Map(), // message_id/turn_id -> assistant bubble being streamed
  tools: new Map(), // call_id -> <details> line of a tool call
  lastUser: null, // {text, seq} of the last message.user (turn.started dedupe)
  catalog: new Map(), // tool name -> tool (GET /v1/tools) for the Run-a-tool panel
  lastTemplate: "", // the arguments template last filled in (unedited if the box still equals it)
  draftCitations: [], // the assist draft's sources ([{id, title}]), sent with the draft as links
};

/** The open conversation's queue item, if it is queued. */
export function currentItem() {
  return state.items.get(state.selected) || null;
}
