// Opens a StoreSync node's dashboard in Debian's headless Chromium, reports the figures it rendered, takes a screenshot,
// then performs the given actions and reports the figures again. Used by StoreSync's dashboard test; bounded in time.
//
//   node dashboard-check.mjs URL SCREENSHOT.png [--fill SELECTOR=VALUE] [--click SELECTOR] [--wait-text SELECTOR=TEXT]
//                                               [--wait-checked SELECTOR=true|false] ...
//
// Prints one JSON line per phase: {"phase":"rendered"|"after", "values": {key: data-value}, "texts": {key: text}}.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, screenshot, ...rest] = process.argv.slice(2);
if (!url || !screenshot) { console.error("usage: dashboard-check.mjs URL SCREENSHOT [actions]"); process.exit(2); }
const actions = [];
for (let i = 0; i < rest.length; i += 2) actions.push([rest[i], rest[i + 1]]);

const timer = setTimeout(() => { console.error("dashboard-check: gave up after 90 s"); process.exit(3); }, 90_000);
const profile = mkdtempSync(join(tmpdir(), "storesync-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on("pageerror", e => errors.push(String(e)));
  // A 404 is how the page learns that an optional API (communities) is absent: not an error of the page.
  page.on("console", m => { if (m.type() === "error" && !m.text().includes("404")) errors.push(m.text()); });
  await page.goto(url, { waitUntil: "load", timeout: 30_000 });
  await page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 });

  const collect = () => page.evaluate(() => {
    const values = {}, texts = {};
    for (const el of document.querySelectorAll("[data-value]")) {
      const row = el.closest("tr[data-community]");
      const key = row ? `${row.dataset.community}/${[...el.classList].find(c => c !== "muted")}` : el.id;
      if (!key) continue;
      values[key] = el.dataset.value;
      texts[key] = el.textContent;
    }
    for (const box of document.querySelectorAll("tr[data-community] .opt-in")) values[`${box.closest("tr").dataset.community}/opt-in`] = String(box.checked);
    texts.status = document.getElementById("status").textContent;
    return { values, texts };
  });

  console.log(JSON.stringify({ phase: "rendered", ...(await collect()) }));
  await page.screenshot({ path: screenshot, fullPage: true });

  for (const [action, arg] of actions) {
    // SELECTOR=VALUE splits at the last '=' (selectors contain '=' in attribute tests); --click takes a bare selector.
    const at = action === "--click" ? -1 : arg.lastIndexOf("=");
    const selector = at < 0 ? arg : arg.slice(0, at), value = at < 0 ? "" : arg.slice(at + 1);
    if (action === "--fill") await page.fill(selector, value, { timeout: 10_000 });
    else if (action === "--click") await page.click(selector, { timeout: 10_000 });
    else if (action === "--wait-text") await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent.includes(t), [selector, value], { timeout: 15_000 });
    else if (action === "--wait-checked") await page.waitForFunction(([s, c]) => document.querySelector(s)?.checked === (c === "true"), [selector, value], { timeout: 15_000 });
    else throw new Error("unknown action " + action);
  }
  if (actions.length) console.log(JSON.stringify({ phase: "after", ...(await collect()) }));
  if (errors.length) { console.error("page errors:\n" + errors.join("\n")); process.exitCode = 4; }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(timer);
}
