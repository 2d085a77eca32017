import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const page = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
const shellBlocks = [...page.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? "");

/**
 * A folder laid out like the repository after `npm start`: the demo's ids in .wrangler/demo.json
 * (here the test tenant's) and examples/contacts.csv, so the page's commands run as written.
 */
function demoFolder(): string {
  const { tenant } = inject("cli");
  const dir = mkdtempSync(join(tmpdir(), "edgedial-cli-docs-"));
  mkdirSync(join(dir, ".wrangler"));
  mkdirSync(join(dir, "examples"));
  writeFileSync(join(dir, ".wrangler/demo.json"), JSON.stringify({ key: tenant.key, agent_id: tenant.agentId, phone_number_id: tenant.numberId }));
  copyFileSync(join(ROOT, "examples/contacts.csv"), join(dir, "examples/contacts.csv"));
  return dir;
}

describe("docs/cli.md", () => {
  it("has shell examples to run", () => {
    expect(shellBlocks.length).toBeGreaterThanOrEqual(3);
    expect(shellBlocks.join("\n")).toContain("npx edgedial campaigns watch");
  });

  it("every sh block runs as written, in order, against a live server", async () => {
    const dir = demoFolder();
    // `npx edgedial` resolves to this checkout's bin (docs/cli.md says how); the shim skips npm's few seconds per call.
    const script = [
      "set -euo pipefail",
      `npx() { if [ "$1" = edgedial ]; then shift; node ${JSON.stringify(join(ROOT, "bin/edgedial.mjs"))} "$@"; else command npx "$@"; fi; }`,
      ...shellBlocks,
    ].join("\n");
    const { origin } = inject("cli");
    const env = { ...process.env, EDGEDIAL_BASE_URL: origin, NO_COLOR: "1", EDGEDIAL_API_KEY: "" };
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile("bash", ["-c", script], { cwd: dir, env, timeout: 120_000 }, (error, stdout, stderr) =>
        done({ code: error ? Number(error.code) : 0, stdout, stderr }),
      ),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^completed: 13 of 13 done \(/m);
    expect(result.stdout).toMatch(/^ID\s+STATUS\s+DONE\s+CREATED\s+NAME$/m);
    expect(result.stdout).toMatch(/\nexit status 1\n$/);
    expect(result.stderr).toBe("error: The campaign is completed; a finished campaign cannot be started again; create a new one.\n");
    for (const file of ["contacts.csv", "results.csv"]) {
      const rows = readFileSync(join(dir, file), "utf8").trimEnd().split(/\r?\n/);
      expect(rows[0], file).toMatch(/^row,phone_number,status,/);
      expect(rows, file).toHaveLength(14);
    }
  });
});
