#!/usr/bin/env node
// The `edgedial` command. Its code is TypeScript compiled into dist/ by `npm run build:client`, which `npm install` runs.
import { readFileSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
let runCli;
try {
  ({ runCli } = await import(compiled.href));
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes(compiled.pathname)) throw error;
  process.stderr.write("error: the edgedial CLI is not built yet; run `npm run build:client` in the edgedial folder (npm install does it too).\n");
  process.exit(1);
}

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// Ctrl-C leaves at once, wherever a request is; a watch's hidden cursor is shown again first.
process.once("SIGINT", () => {
  if (process.stdout.isTTY) process.stdout.write("\x1b[?25h\n");
  process.exit(130);
});
// `edgedial … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  version,
});
