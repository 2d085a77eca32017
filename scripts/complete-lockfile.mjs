#!/usr/bin/env node
// Adds platform-specific optional packages that npm left out of package-lock.json because the
// registry it resolved against had no build of that version for another OS. Without them `npm ci`
// refuses the lock ("Missing: … from lock file"). Run after `npm install` changes the lock.
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

const OS = [
  [/android/, "android"],
  [/darwin/, "darwin"],
  [/win32|windows/, "win32"],
  [/freebsd/, "freebsd"],
  [/linux/, "linux"],
];
const CPU = [
  [/arm64|aarch64/, "arm64"],
  [/x64|-64$|amd64/, "x64"],
  [/ia32/, "ia32"],
];

function platformOf(name) {
  const os = OS.find(([re]) => re.test(name))?.[1];
  const cpu = CPU.find(([re]) => re.test(name))?.[1];
  if (!os || !cpu) return null;
  return { os: [os], cpu: [cpu], ...(name.endsWith("-musl") ? { libc: ["musl"] } : {}) };
}

/** Where npm looks for `dep` required from the package at `from`: nearest node_modules first. */
function lookupPaths(from, dep) {
  const paths = [];
  let dir = from;
  for (;;) {
    paths.push(dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`);
    if (!dir) return paths;
    dir = dir.slice(0, dir.lastIndexOf("node_modules/")).replace(/\/$/, "");
  }
}

let added = 0;
for (const [from, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const platform = platformOf(dep);
    if (!platform) continue;
    // Place it as high as possible, but below the first copy of another version that would shadow it.
    let target = null;
    let satisfied = false;
    for (const candidate of lookupPaths(from, dep)) {
      const existing = packages[candidate];
      if (existing) {
        satisfied = existing.version === version;
        break;
      }
      target = candidate;
    }
    if (satisfied || !target) continue;
    packages[target] = { version, ...(entry.dev && { dev: true }), optional: true, ...platform };
    added++;
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
