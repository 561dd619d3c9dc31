// Serves a bundle built by build.mjs on 127.0.0.1 (a tiny static server), opens it in Debian's headless Chromium
// (playwright-core with executablePath: no browser download), waits (bounded) until the page is done, saves a screenshot
// and prints the page's result as one JSON line. Exit 0 when the page succeeded, 1 when it failed (its reason on stderr).
//   node run-page.mjs OUTDIR SCREENSHOT.png QUERY   (QUERY: the page's query string, e.g. addr=...&shard=0&contentTopic=...)
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

const [dir, screenshot, query] = process.argv.slice(2);
if (!dir || !screenshot || query === undefined) { console.error("usage: run-page.mjs OUTDIR SCREENSHOT QUERY"); process.exit(2); }
const timer = setTimeout(() => { console.error("run-page: gave up after 150 s"); process.exit(3); }, 150_000);

const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };
const server = createServer((req, res) => {
  // Only the two files of the bundle, by their base name: nothing else on the disk is reachable.
  const name = basename(new URL(req.url, "http://x").pathname) || "index.html";
  const type = types[name.slice(name.lastIndexOf("."))];
  if (!["index.html", "app.js"].includes(name) || !type) { res.writeHead(404).end(); return; }
  res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(readFileSync(join(dir, name)));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/index.html?${query}`;

const profile = mkdtempSync(join(tmpdir(), "storesync-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1100, height: 640 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
let code = 1;
try {
  const page = context.pages()[0] || await context.newPage();
  const log = [];
  page.on("pageerror", (e) => log.push(`pageerror: ${e}`));
  page.on("console", (m) => { if (m.type() === "error") log.push(`console: ${m.text()}`); });
  await page.goto(url, { waitUntil: "load", timeout: 30_000 });
  await page.waitForSelector("body[data-done]", { timeout: 120_000 });
  await page.screenshot({ path: screenshot, fullPage: true });
  const result = await page.evaluate(() => window.storesyncResult);
  console.log(JSON.stringify(result));
  if (result?.error) console.error(`page failed: ${result.error}\n${log.join("\n")}`);
  else code = 0;
} catch (e) {
  console.error(`run-page: ${e?.stack ?? e}`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(timer);
}
process.exit(code);
