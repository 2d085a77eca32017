import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const LEFT_BEHIND = new Set(["node_modules", ".git", ".wrangler", "dist", ".data", "coverage", "test-results"]);

interface KnipIssue {
  file: string;
  exports: { name: string }[];
}

const trees: string[] = [];

/** A copy of the project to break on purpose (new files, or lines put on top of existing ones); node_modules is linked, not copied. */
function copyOfProject(files: Record<string, string> = {}, onTop: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "edgedial-checks-"));
  trees.push(dir);
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (source) =>
      !relative(ROOT, source)
        .split(/[\\/]/)
        .some((part) => LEFT_BEHIND.has(part)),
  });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  for (const [path, text] of Object.entries(onTop)) writeFileSync(join(dir, path), `${text}\n${readFileSync(join(dir, path), "utf8")}`);
  return dir;
}

/** Exactly what `npm run check:imports` runs; its report flattened to one line per violation's path. */
async function cruise(dir: string): Promise<{ code: number; report: string; cruised: number }> {
  const bin = join(dir, "node_modules/.bin/depcruise");
  let code = 0;
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, [bin, "src", "--output-type", "err"], { cwd: dir }));
  } catch (error) {
    ({ code, stdout } = error as { code: number; stdout: string });
  }
  const report = stdout.replace(/ →\s*\n\s*/g, " → ");
  return { code, report, cruised: Number(/(\d+) modules/.exec(report)?.[1] ?? 0) };
}

/** The same command `npm run check:unused` runs, answering JSON. */
async function knip(dir: string): Promise<{ code: number; issues: KnipIssue[] }> {
  const bin = join(dir, "node_modules/.bin/knip");
  try {
    const { stdout } = await run(process.execPath, [bin, "--reporter", "json", "--no-progress"], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, issues: JSON.parse(stdout).issues };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, issues: JSON.parse(failed.stdout).issues };
  }
}

describe("npm run check's import and dead-code checks", () => {
  let clean: string;
  beforeAll(() => {
    clean = copyOfProject();
  });
  afterAll(() => {
    for (const dir of trees) rmSync(dir, { recursive: true, force: true });
  });

  it("passes the project as it is, having read the whole of src/", async () => {
    const [imports, unused] = await Promise.all([cruise(clean), knip(clean)]);
    expect(imports.report, "no layer rule is broken").not.toContain("error ");
    expect(imports.code).toBe(0);
    // An empty graph passes every rule; the swc reader must have seen the TypeScript.
    expect(imports.cruised).toBeGreaterThan(100);
    expect(
      unused.issues.filter((i) => Object.values(i).some((v) => Array.isArray(v) && v.length > 0)),
      "nothing unused",
    ).toEqual([]);
    expect(unused.code).toBe(0);
  });

  it("fails on a cycle made of type-only imports", async () => {
    const dir = copyOfProject({
      "src/db/cycle-a.ts": 'import type { B } from "./cycle-b";\n\nexport interface A {\n  b: B;\n}\n',
      "src/db/cycle-b.ts": 'import type { A } from "./cycle-a";\n\nexport interface B {\n  a: A | null;\n}\n',
    });
    const { code, report } = await cruise(dir);
    expect(code).not.toBe(0);
    expect(report).toMatch(/error no-cycle: src\/db\/cycle-(a|b)\.ts → src\/db\/cycle-(?!\1)[ab]\.ts → src\/db\/cycle-\1\.ts/);
  });

  it("fails each layer break with the name of the rule it breaks", async () => {
    const dir = copyOfProject(
      {
        "src/db/layer-probe.ts": 'import { badRequest } from "../http/errors";\n\nexport const probe = badRequest;\n',
        "src/routes/layer-probe.ts": 'import { Dispatcher } from "../campaign-object/dial/dispatcher";\n\nexport const probe = Dispatcher;\n',
        "src/http/layer-probe.ts": 'import { parseCampaignSettings } from "../campaigns/settings";\n\nexport const probe = parseCampaignSettings;\n',
        "src/campaign-object/storage/layer-probe.ts": 'import { isTerminal } from "../lifecycle";\n\nexport const probe = isTerminal;\n',
        "src/campaign-object/transition-rules.ts": 'import { TwilioAdapter } from "../carriers/twilio";\n\nexport const probe = TwilioAdapter;\n',
      },
      { "src/env.ts": 'import type { Dispatcher } from "./campaign-object/dial/dispatcher";' },
    );
    const { code, report } = await cruise(dir);
    expect(code).not.toBe(0);
    for (const line of [
      "db-imports-nothing-above: src/db/layer-probe.ts → src/http/errors.ts",
      "worker-reaches-object-via-stub: src/routes/layer-probe.ts → src/campaign-object/dial/dispatcher.ts",
      "http-knows-no-feature: src/http/layer-probe.ts → src/campaigns/settings.ts",
      "object-storage-imports-no-caller: src/campaign-object/storage/layer-probe.ts → src/campaign-object/lifecycle.ts",
      "pure-machines-see-only-carrier-types: src/campaign-object/transition-rules.ts → src/carriers/twilio.ts",
      "env-imports-nothing: src/env.ts → src/campaign-object/dial/dispatcher.ts",
    ]) {
      expect(report).toContain(`error ${line}`);
    }
  });

  it("fails on an export nothing imports", async () => {
    const dir = copyOfProject({}, { "src/ids.ts": "export const nobodyImportsThis = 1;" });
    const { code, issues } = await knip(dir);
    expect(code).not.toBe(0);
    const ids = issues.find((i) => i.file === "src/ids.ts");
    expect(ids?.exports.map((e) => e.name)).toEqual(["nobodyImportsThis"]);
  });
});
