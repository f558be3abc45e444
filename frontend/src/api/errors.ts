// One error type for every failed request: the HTTP status and the DRF error body (API.md §1.5).

export type ErrorBody = Record<string, unknown> | string | null | undefined;

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: ErrorBody,
  ) {
    super(`HTTP ${status}`);
  }
}

const STATUS_TEXT: Record<number, string> = {
  0: "网络错误，无法连接服务器。",
  401: "登录已失效，请重新登录。",
  403: "没有权限执行此操作。",
  404: "未找到。",
  413: "上传的文件太大。",
  429: "请求过于频繁，请稍后再试。",
  500: "服务器内部错误。",
  502: "服务器暂时不可用。",
  503: "服务暂时不可用，请稍后再试。",
};

function flatten(value: unknown, prefix: string, out: string[], labels: Record<string, string>): void {
  if (value == null) return;
  if (typeof value === "string") {
    out.push(prefix ? `${prefix}：${value}` : value);
  } else if (Array.isArray(value)) {
    for (const v of value) flatten(v, prefix, out, labels);
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === "code") continue;
      const name = k === "detail" || k === "non_field_errors" ? "" : (labels[k] ?? k);
      flatten(v, prefix && name ? `${prefix} › ${name}` : prefix || name, out, labels);
    }
  }
}

/** Human-readable lines for an error; `labels` maps field names to the form's Chinese labels. */
export function errorLines(err: unknown, labels: Record<string, string> = {}): string[] {
  if (!(err instanceof ApiError)) return [err instanceof Error ? err.message : String(err)];
  const out: string[] = [];
  const body = err.body;
  if (body && typeof body === "object" && "rows" in body && body.rows && typeof body.rows === "object") {
    for (const [row, errs] of Object.entries(body.rows as Record<string, unknown>)) {
      flatten(errs, `第 ${row} 行`, out, labels);
    }
  } else if (typeof body === "string" && body && !body.trimStart().startsWith("<")) {
    out.push(body);
  } else {
    flatten(body, "", out, labels);
  }
  if (!out.length) out.push(STATUS_TEXT[err.status] ?? `请求失败（HTTP ${err.status}）。`);
  return out;
}

/** Row errors of a bulk upload (`{"rows": {"3": {...}}}`), or null when the body has none. */
export function rowErrors(err: unknown): Record<string, string[]> | null {
  if (!(err instanceof ApiError) || !err.body || typeof err.body !== "object") return null;
  const rows = (err.body as Record<string, unknown>).rows;
  if (!rows || typeof rows !== "object") return null;
  const out: Record<string, string[]> = {};
  for (const [row, errs] of Object.entries(rows as Record<string, unknown>)) {
    const lines: string[] = [];
    flatten(errs, "", lines, {});
    out[row] = lines;
  }
  return out;
}
