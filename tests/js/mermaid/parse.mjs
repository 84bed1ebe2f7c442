// Parse Mermaid diagrams with Mermaid's own parser, headlessly: a JSON array of diagram texts on stdin,
// a JSON array of {ok, type} or {ok: false, error} on stdout. Rendering needs a browser; parsing does not
// (jsdom stands in for the DOM that mermaid's module expects at import time).
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

const results = [];
for (const text of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ ok: true, type: parsed.diagramType });
  } catch (error) {
    results.push({ ok: false, error: String((error && error.message) || error) });
  }
}
process.stdout.write(JSON.stringify(results));
