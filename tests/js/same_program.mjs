// Whether two JavaScript modules are the same program: their syntax trees,
// parsed by espree (ESLint's parser, already in node_modules), are equal once
// positions are left out.  tests/test_static_minify.py gives it each asset as
// written and as served (minified), so a minifier that changed a string, a
// template literal or an expression is caught, not only one that broke syntax.
//   node tests/js/same_program.mjs ORIGINAL SERVED   -> exit 0 when equal
import { readFileSync } from "node:fs";
import * as espree from "espree";

const POSITION_KEYS = new Set(["start", "end", "loc", "range"]);

function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (POSITION_KEYS.has(key)) continue;
    // A template's `raw` text keeps the source's spelling; `cooked` is its value.
    out[key] = strip(value);
  }
  return out;
}

function tree(path) {
  const source = readFileSync(path, "utf8");
  return strip(espree.parse(source, { ecmaVersion: "latest", sourceType: "module" }));
}

const [original, served] = process.argv.slice(2);
const a = JSON.stringify(tree(original));
const b = JSON.stringify(tree(served));
if (a !== b) {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i += 1;
  console.error(`differs at ${i}:\n  written: ${a.slice(Math.max(0, i - 120), i + 120)}\n  served:  ${b.slice(Math.max(0, i - 120), i + 120)}`);
  process.exit(1);
}
