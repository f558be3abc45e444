import { ref } from "vue";
import { ApiError } from "./api/errors";

/** Wrap an async action with `loading` and `error` refs; `run` resolves to undefined on failure. */
export function useTask<A extends unknown[], T>(fn: (...args: A) => Promise<T>) {
  const loading = ref(false);
  const error = ref<unknown>(null);
  async function run(...args: A): Promise<T | undefined> {
    loading.value = true;
    error.value = null;
    try {
      return await fn(...args);
    } catch (e) {
      error.value = e instanceof ApiError || e instanceof Error ? e : new Error(String(e));
      return undefined;
    } finally {
      loading.value = false;
    }
  }
  return { loading, error, run };
}

export const TOPIC_TYPES = ["单选题", "多选题", "判断题", "填空题", "问答题"] as const;
export const ORDER_STATUS: Record<number, string> = {
  1: "待支付",
  2: "待发货",
  3: "待收货",
  4: "待评价",
  5: "已完成",
  6: "已取消",
};
export const PAY_METHODS: Record<number, string> = { 1: "支付宝", 2: "货到付款" };

export function formatTime(value: string | null | undefined): string {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString("zh-CN", { hour12: false });
}
