// Typed API client: openapi-fetch over the generated `paths`, with the Bearer token and one
// transparent refresh-and-retry on 401 (API.md §1.2).
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { ApiError, type ErrorBody } from "./errors";
import { auth } from "../auth";

const NO_REFRESH = ["/api/users/login/", "/api/users/login/refresh/", "/api/users/logout/"];

async function authFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const token = auth.accessToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(request);
  const path = new URL(request.url).pathname;
  if (response.status !== 401 || NO_REFRESH.includes(path) || !auth.hasRefresh()) return response;
  if (!(await auth.refresh())) {
    auth.lost();
    return response;
  }
  retry.headers.set("Authorization", `Bearer ${auth.accessToken()}`);
  return fetch(retry);
}

export const api = createClient<paths>({ baseUrl: "", fetch: authFetch });

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Await an openapi-fetch call; return its data or throw ApiError(status, body). */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch {
    throw new ApiError(0, null);
  }
  if (!result.response.ok) throw new ApiError(result.response.status, result.error as ErrorBody);
  return result.data as T;
}
