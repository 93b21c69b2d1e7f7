/* Agent console: API calls with the signed-in staff token; a refused token signs the agent out. */
import { client } from "../shared/api.js";
import { state } from "./state.js";

let onUnauthorized = () => {};
const request = client(() => state.token, (message) => onUnauthorized(message));

/** What to do when the API refuses the token (main.js: sign out with the message). */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/** The response body of METHOD PATH (JSON BODY); throws ApiError. */
export async function api(method, path, body) {
  return (await request(method, path, body)).data;
}

/** The open conversation's API path + suffix. */
export const conv = (suffix) => `/v1/conversations/${encodeURIComponent(state.selected)}${suffix}`;

/** A list response: a bare array, or the array under `key`. */
export const listOf = (data, key) => (Array.isArray(data) ? data : (data && data[key]) || []);
