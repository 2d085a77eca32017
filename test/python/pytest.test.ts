import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, inject, test } from "vitest";

// Debian's interpreter, where python3-httpx and python3-pytest install; another python3 on PATH may lack them.
const PYTHON = "/usr/bin/python3";
const root = join(import.meta.dirname, "..", "..");
const TESTS = "clients/python/tests";
// Needs POST /api/v1/campaigns/{id}/contacts, which lands with the contacts-append change.
const APPEND_TESTS = `${TESTS}/test_live_append.py`;

/** Why the Python tests cannot run here, as a sentence saying what to install; null when they can. */
function missingPython(): string | null {
  const probe = spawnSync(PYTHON, ["-c", "import httpx, pytest"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    return `${PYTHON} cannot import httpx and pytest (${(probe.error?.message ?? probe.stderr).trim()}): install Debian's python3 python3-httpx python3-pytest python3-setuptools (apt-get install -y python3-httpx python3-pytest python3-setuptools), as .ci/run does.`;
  }
  return null;
}

/** Runs pytest against the throwaway server; answers its exit code and everything it printed. */
function pytest(args: string[]): Promise<{ code: number | null; output: string }> {
  const tenant = inject("pythonTenant");
  const env = {
    ...process.env,
    EDGEDIAL_BASE_URL: tenant.origin,
    EDGEDIAL_API_KEY: tenant.key,
    EDGEDIAL_TEST_AGENT_ID: tenant.agentId,
    EDGEDIAL_TEST_NUMBER_ID: tenant.numberId,
    PYTHONDONTWRITEBYTECODE: "1",
  };
  const child = spawn(PYTHON, ["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", ...args], { cwd: root, env });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** pytest's closing line, which must say only "N passed": a skip, xfail or error is a failure here. */
function expectAllPassed(result: { code: number | null; output: string }, atLeast: number) {
  const summary = result.output.trim().split("\n").at(-1) ?? "";
  expect(result.code, `pytest failed:\n${result.output.slice(-6000)}`).toBe(0);
  const match = /^=*\s*(\d+) passed in [\d.]+s/.exec(summary);
  expect(match, `pytest's summary must report passes only: ${summary}`).not.toBeNull();
  expect(Number(match?.[1]), summary).toBeGreaterThanOrEqual(atLeast);
}

test("the Python SDK's unit, live and docs tests pass against a live server", async () => {
  const problem = missingPython();
  if (problem) throw new Error(problem);
  expectAllPassed(await pytest([TESTS, `--ignore=${APPEND_TESTS}`]), 50);
});

test("the Python SDK appends contacts through POST /api/v1/campaigns/{id}/contacts (needs the append route)", async () => {
  const problem = missingPython();
  if (problem) throw new Error(problem);
  expectAllPassed(await pytest([APPEND_TESTS]), 1);
});
