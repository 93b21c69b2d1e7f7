/* Policy admin: API calls with the signed-in admin token; resolve to {data, etag}, throw ApiError. */
import { client } from "../shared/api.js";
import { state } from "./state.js";

export const api = client(() => state.token);
