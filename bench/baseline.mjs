// A checkout of an earlier commit to run the same load against, kept between runs: the tree is
// extracted with `git archive` into a temp dir (nothing is registered in this repository), and
// its `npm ci` downloads through a cache under node_modules/.cache, so a rerun installs offline.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: "true" } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed in ${cwd}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** The directory of `commit`'s tree with its dependencies installed; made once, then reused while the temp dir lasts. */
export function baselineCheckout(commit) {
  const full = run("git", ["rev-parse", "--verify", `${commit}^{commit}`], root).trim();
  const dir = join(tmpdir(), `edgedial-baseline-${full.slice(0, 12)}`);
  const ready = join(dir, ".baseline-ready");
  if (existsSync(ready) && readFileSync(ready, "utf8") === full) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = join(tmpdir(), `edgedial-baseline-${full.slice(0, 12)}.tar`);
  run("git", ["archive", "--format=tar", "-o", archive, full], root);
  run("tar", ["-xf", archive, "-C", dir], root);
  rmSync(archive, { force: true });
  console.log(`  installing ${full.slice(0, 7)}'s dependencies in ${dir} (once; later runs reuse it)`);
  run("npm", ["ci", "--no-audit", "--no-fund", "--cache", join(root, "node_modules", ".cache", "edgedial-baseline-npm")], dir);
  writeFileSync(ready, full);
  return dir;
}
