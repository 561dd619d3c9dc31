// Bundles app.mjs (js-waku and its libp2p) for the browser with esbuild and writes OUTDIR/app.js and OUTDIR/index.html.
//   node build.mjs OUTDIR
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
if (!out) { console.error("usage: build.mjs OUTDIR"); process.exit(2); }
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: ["app.mjs"],
  outfile: join(out, "app.js"),
  bundle: true,
  platform: "browser",
  format: "iife",
  target: "chrome120",
  minify: false,
  sourcemap: false,
  logLevel: "warning",
  metafile: true,
});
copyFileSync("index.html", join(out, "index.html"));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(JSON.stringify({ bundle: join(out, "app.js"), bytes }));
