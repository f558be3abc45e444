// E2E flows in Debian's Chromium through playwright-core (no browser download).
// Started by tests/e2e/test_e2e.py with BASE_URL, CHROMIUM, PYTHON, SCREENSHOT_DIR and the
// server's environment (REDIS_URL / REDIS_DB_BASE) so that captcha_code.py can read a code.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const require = createRequire(join(root, "frontend", "package.json"));
const { chromium } = require("playwright-core");

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR ?? join(here, "screenshots");
const PASSWORD = process.env.E2E_PASSWORD;
const stamp = Date.now().toString(36);
const WORD = `量子纠缠${stamp}`; // unique search word, CJK like the product's data
const ANSWER_TEXT = `正确选项${stamp}`;

let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed += 1;
    console.log(`ok - ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL - ${what}`);
  }
}

// Wait for `locator` to be visible: a pass, or a failure (with the reason) after `timeout` ms.
async function seen(locator, what, timeout = 15000) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
    check(true, what);
    return true;
  } catch (err) {
    check(false, `${what} (${err.message.split("\n")[0]})`);
    return false;
  }
}

async function landed(page, pattern, what) {
  try {
    await page.waitForURL(pattern, { timeout: 10000 });
    check(true, what);
  } catch {
    check(false, `${what} (at ${page.url()})`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function captchaCode(uuid) {
  return execFileSync(process.env.PYTHON ?? "python3", [join(here, "captcha_code.py"), uuid], {
    cwd: root,
    env: process.env,
  })
    .toString()
    .trim();
}

async function login(page, username) {
  await page.goto(`${BASE}/login`);
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码", { exact: true }).fill(PASSWORD);
  const img = page.locator("img[data-uuid]");
  await img.evaluate((el) => (el.complete && el.naturalWidth > 0) || new Promise((ok) => el.addEventListener("load", ok, { once: true })));
  const uuid = await img.getAttribute("data-uuid");
  await page.getByLabel("验证码", { exact: true }).fill(captchaCode(uuid));
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"), { timeout: 15000 });
  await page.getByText(username).first().waitFor();
}

async function teacherFlow(browser) {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/login`);
  await page.locator("img[data-uuid]").waitFor();
  await shot(page, "01-login");

  // a wrong captcha is refused with a field error and a new image
  await page.getByLabel("用户名").fill("e2e_teacher");
  await page.getByLabel("密码", { exact: true }).fill(PASSWORD);
  const first = await page.locator("img[data-uuid]").getAttribute("data-uuid");
  await page.getByLabel("验证码", { exact: true }).fill("zzzz");
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("alert").first().waitFor();
  check((await page.locator("img[data-uuid]").getAttribute("data-uuid")) !== first, "wrong captcha → new captcha image");
  check(page.url().includes("/login"), "wrong captcha → still on the login page");

  await login(page, "e2e_teacher");
  await landed(page, /\/classes$/, "teacher lands on the classes page");

  // create a class
  const className = `E2E班${stamp}`.slice(0, 30);
  await page.getByLabel("班级名称").fill(className);
  await page.getByLabel("口号").fill("端到端测试");
  await page.getByRole("button", { name: "创建班级" }).click();
  await seen(page.getByRole("link", { name: className }), "teacher created a class and sees it in the list");
  await shot(page, "02-teacher-classes");

  // create a label and a single-choice topic
  await page.getByRole("link", { name: "题库" }).click();
  await page.getByLabel("标签名称").fill(`E2E标签${stamp}`);
  await page.getByRole("button", { name: "添加标签" }).click();
  await page.getByText(`E2E标签${stamp}`).first().waitFor();
  await page.getByRole("button", { name: "新建题目" }).click();
  await page.getByLabel("题干", { exact: true }).fill(`下列哪一项描述了${WORD}？`);
  await page.getByLabel("题型", { exact: true }).selectOption("0");
  await page.getByLabel("所属标签", { exact: true }).selectOption({ label: `E2E标签${stamp}` });
  await page.getByLabel("分值", { exact: true }).fill("5");
  await page.getByLabel("选项 A 内容").fill("错误选项");
  await page.getByLabel("选项 B 内容").fill(ANSWER_TEXT);
  await page.getByLabel("选项 B 为正确答案").check();
  await page.getByRole("button", { name: "保存题目" }).click();
  await seen(page.getByRole("cell", { name: `下列哪一项描述了${WORD}？` }), "teacher created a topic and sees it in the bank");
  await shot(page, "03-teacher-bank");
  await ctx.close();
}

async function studentSearchFlow(browser) {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  await login(page, "e2e_student");
  await landed(page, /\/search$/, "student lands on the search page");
  await page.getByLabel("关键词").fill(WORD);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/topics/search/") && r.url().includes("text=")),
    page.getByRole("button", { name: "搜索" }).click(),
  ]);
  const body = await response.json();
  const hit = (body.results ?? []).find((r) => r.subject.includes(WORD));
  check(response.status() === 200 && hit, "search API finds the teacher's topic");
  check(hit && !("answer" in hit), "student search result has no answer key");
  check(hit && (hit.options ?? []).every((o) => !("is_correct" in o)), "student options carry no is_correct");
  const results = page.locator("[data-test=search-results]");
  const found = await seen(results.getByText(WORD), "the hit is listed on the search page");
  await shot(page, "04-student-search");
  check(found && (await results.locator("em.hl").count()) > 0, "the hit is highlighted with <em class=hl>");
  check(found && (await page.locator("[data-test=answer]").count()) === 0, "no answer shown to the student");
  await ctx.close();
}

async function shopperFlow(browser) {
  const ctx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1200, height: 800 } });
  const page = await ctx.newPage();
  await login(page, "e2e_student");

  // address with the area cascader
  await page.goto(`${BASE}/addresses`);
  await page.getByLabel("收货人").fill("张三");
  await page.getByLabel("省份").selectOption({ index: 1 });
  await page.locator("#addr-city option").nth(1).waitFor({ state: "attached" });
  await page.getByLabel("城市").selectOption({ index: 1 });
  await page.locator("#addr-district option").nth(1).waitFor({ state: "attached" });
  await page.getByLabel("区县").selectOption({ index: 1 });
  await page.getByLabel("详细地址").fill("测试路 1 号");
  await page.getByLabel("手机号").fill("13800000000");
  await page.getByRole("button", { name: "保存地址" }).click();
  await seen(page.getByRole("cell", { name: /测试路 1 号/ }), "shopper created an address through the cascader");
  await shot(page, "05-addresses");

  // add to cart
  await page.goto(`${BASE}/shop`);
  await page.getByLabel("搜索商品").fill("E2E 笔记本");
  await page.getByRole("button", { name: "搜索" }).click();
  const card = page.locator("article", { hasText: "E2E 笔记本" });
  await card.getByLabel("数量").fill("2");
  await card.getByRole("button", { name: "加入购物车" }).click();
  await seen(card.getByText("已加入购物车"), "commodity added to the cart");
  await shot(page, "06-shop");

  // order with Alipay, pay in the simulator
  await page.goto(`${BASE}/cart`);
  await page.getByText("E2E 笔记本").first().waitFor();
  await page.getByLabel("收货地址").selectOption({ index: 0 });
  await page.getByLabel("支付宝").check();
  await shot(page, "07-cart");
  await page.getByRole("button", { name: "提交订单" }).click();
  await page.waitForURL(/\/orders\/\w+/);
  await seen(page.locator("[data-test=order-status]", { hasText: "待支付" }), "new order is unpaid");
  await shot(page, "08-order");
  await page.getByRole("button", { name: "去支付" }).click();
  await page.waitForURL(/\/sandbox\/alipay\/gateway\//, { timeout: 15000 });
  await shot(page, "09-sandbox");
  await page.locator("#pay").click();
  await page.waitForURL(/\/pay\/return/, { timeout: 20000 });
  await seen(page.getByText("支付成功"), "return page reports the order paid", 20000);
  await shot(page, "10-pay-return");
  await page.goto(`${BASE}/orders`);
  await seen(page.getByRole("cell", { name: "待发货" }), "orders list shows the order as paid (to ship)");
  await shot(page, "11-orders");
  await ctx.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const flows = process.argv.slice(2);
try {
  for (const [name, flow] of [
    ["teacher", teacherFlow],
    ["search", studentSearchFlow],
    ["shop", shopperFlow],
  ]) {
    if (flows.length && !flows.includes(name)) continue;
    try {
      await flow(browser);
    } catch (err) {
      failed += 1;
      console.log(`FAIL - ${name} flow: ${err.message.split("\n").slice(0, 6).join("\n")}`);
    }
  }
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
