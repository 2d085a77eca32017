import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { inject } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = resolve(ROOT, "bin/edgedial.mjs");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `edgedial` bin in a child process, as a user's shell would, with the test tenant's key unless `env` says otherwise. */
export function edgedial(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Promise<CliRun> {
  const { origin, tenant } = inject("cli");
  const fullEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, EDGEDIAL_API_KEY: tenant.key, EDGEDIAL_BASE_URL: origin, NO_COLOR: "1", ...env })) {
    if (value !== undefined) fullEnv[name] = value;
  }
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: fullEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** A failure as a user sees it: one sentence, no stack frames, no source paths. */
export function expectNoStackTrace(run: CliRun) {
  const leaked = /\n\s+at\s|\.(ts|js|mjs):\d+|node:internal/.test(run.stderr);
  if (leaked) throw new Error(`stderr shows a stack trace:\n${run.stderr}`);
}
