// Session state. The access token lives in memory only; the refresh token is kept in this tab's
// sessionStorage so that a full-page return (Alipay → /pay/return, reload) can mint a new access
// token. Refresh rotation and blacklist are the server's (API.md §1.2).
import { reactive } from "vue";
import { ApiError } from "./api/errors";

export type Role = "staff" | "teacher" | "student" | "user";

export interface SessionUser {
  id: number;
  username: string;
  avatar: string | null;
  role: Role;
}

export interface LoginForm {
  username: string;
  password: string;
  uuid: string;
  verify: string;
}

const REFRESH_KEY = "stsys.refresh";

const state = reactive({
  access: null as string | null,
  user: null as SessionUser | null,
  restored: false,
});

let refreshing: Promise<boolean> | null = null;
let onLost: (() => void) | null = null;

async function postJson(url: string, body: unknown, token?: string | null): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    /* non-JSON error page */
  }
  return new ApiError(response.status, body as Record<string, unknown> | null);
}

function setTokens(access: string | null, refresh: string | null): void {
  state.access = access;
  if (refresh) sessionStorage.setItem(REFRESH_KEY, refresh);
  else sessionStorage.removeItem(REFRESH_KEY);
}

function clear(): void {
  setTokens(null, null);
  state.user = null;
}

async function doRefresh(): Promise<boolean> {
  const refresh = sessionStorage.getItem(REFRESH_KEY);
  if (!refresh) return false;
  try {
    const response = await postJson("/api/users/login/refresh/", { refresh });
    if (!response.ok) {
      if (response.status === 401 || response.status === 400) clear();
      return false;
    }
    const data = (await response.json()) as { access: string; refresh: string };
    setTokens(data.access, data.refresh);
    return true;
  } catch {
    return false;
  }
}

async function loadMe(): Promise<void> {
  const response = await fetch("/api/users/me/", {
    headers: { Accept: "application/json", Authorization: `Bearer ${state.access}` },
  });
  if (!response.ok) throw await errorOf(response);
  const me = (await response.json()) as SessionUser;
  state.user = { id: me.id, username: me.username, avatar: me.avatar, role: me.role };
}

export const auth = {
  state,
  accessToken: (): string | null => state.access,
  hasRefresh: (): boolean => sessionStorage.getItem(REFRESH_KEY) !== null,
  isTeacher: (): boolean => state.user?.role === "teacher" || state.user?.role === "staff",
  isStaff: (): boolean => state.user?.role === "staff",

  /** Single-flight token refresh; true when a new access token is in memory. */
  refresh(): Promise<boolean> {
    refreshing ??= doRefresh().finally(() => {
      refreshing = null;
    });
    return refreshing;
  },

  /** On start-up: mint an access token from a stored refresh token and load the profile. */
  async restore(): Promise<void> {
    if (state.restored) return;
    try {
      if (await this.refresh()) await loadMe();
    } catch {
      clear();
    } finally {
      state.restored = true;
    }
  },

  /** POST /api/users/login/; throws ApiError (400 captcha/fields, 401 credentials, 429). */
  async login(form: LoginForm): Promise<SessionUser> {
    let response: Response;
    try {
      response = await postJson("/api/users/login/", form);
    } catch {
      throw new ApiError(0, null);
    }
    if (!response.ok) throw await errorOf(response);
    const data = (await response.json()) as SessionUser & { access: string; refresh: string };
    setTokens(data.access, data.refresh);
    state.user = { id: data.id, username: data.username, avatar: data.avatar, role: data.role };
    return state.user;
  },

  /** Blacklist the refresh token on the server (best effort) and forget the session. */
  async logout(): Promise<void> {
    const refresh = sessionStorage.getItem(REFRESH_KEY);
    if (refresh && state.access) {
      try {
        await postJson("/api/users/logout/", { refresh }, state.access);
      } catch {
        /* the local session is dropped anyway */
      }
    }
    clear();
  },

  onLost(handler: () => void): void {
    onLost = handler;
  },

  /** Called by the client when a refresh failed: the session is gone. */
  lost(): void {
    clear();
    onLost?.();
  },
};
