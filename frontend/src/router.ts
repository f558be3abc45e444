import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { auth } from "./auth";

declare module "vue-router" {
  interface RouteMeta {
    title?: string;
    public?: boolean;
    teacher?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/", name: "home", component: () => import("./views/HomeView.vue"), meta: { title: "首页" } },
  { path: "/login", name: "login", component: () => import("./views/LoginView.vue"), meta: { title: "登录", public: true } },
  {
    path: "/set-password",
    name: "set-password",
    component: () => import("./views/SetPasswordView.vue"),
    meta: { title: "设置密码", public: true },
  },
  { path: "/search", name: "search", component: () => import("./views/SearchView.vue"), meta: { title: "题目搜索" } },
  { path: "/classes", name: "classes", component: () => import("./views/ClassesView.vue"), meta: { title: "我的班级" } },
  {
    path: "/classes/:id(\\d+)",
    name: "class-detail",
    component: () => import("./views/ClassDetailView.vue"),
    meta: { title: "班级详情" },
  },
  {
    path: "/bank",
    name: "bank",
    component: () => import("./views/BankView.vue"),
    meta: { title: "题库", teacher: true },
  },
  { path: "/articles", name: "articles", component: () => import("./views/ArticlesView.vue"), meta: { title: "社区" } },
  {
    path: "/articles/:id(\\d+)",
    name: "article",
    component: () => import("./views/ArticleView.vue"),
    meta: { title: "文章" },
  },
  { path: "/shop", name: "shop", component: () => import("./views/ShopView.vue"), meta: { title: "商城" } },
  { path: "/cart", name: "cart", component: () => import("./views/CartView.vue"), meta: { title: "购物车" } },
  { path: "/addresses", name: "addresses", component: () => import("./views/AddressesView.vue"), meta: { title: "收货地址" } },
  { path: "/orders", name: "orders", component: () => import("./views/OrdersView.vue"), meta: { title: "我的订单" } },
  {
    path: "/orders/:orderId",
    name: "order",
    component: () => import("./views/OrderView.vue"),
    meta: { title: "订单详情" },
  },
  { path: "/pay/return", name: "pay-return", component: () => import("./views/PayReturnView.vue"), meta: { title: "支付结果" } },
  { path: "/:rest(.*)*", name: "not-found", component: () => import("./views/NotFoundView.vue"), meta: { title: "页面不存在", public: true } },
];

export const router = createRouter({ history: createWebHistory("/"), routes });

router.beforeEach(async (to) => {
  await auth.restore();
  if (!to.meta.public && !auth.state.user) return { name: "login", query: { next: to.fullPath } };
  if (to.meta.teacher && !auth.isTeacher()) return { name: "home" };
  return true;
});

router.afterEach((to) => {
  document.title = `${to.meta.title ?? ""} · 学习交流平台`;
});

auth.onLost(() => {
  const here = router.currentRoute.value;
  if (!here.meta.public) void router.push({ name: "login", query: { next: here.fullPath } });
});
