#!/usr/bin/env node
// Fails when README.md or a docs/*.md page links to a file or #anchor that does not exist, or when
// README.md grows past what a newcomer reads in one sitting. Run by `npm run check`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const README_MAX_LINES = 250;

// Pages other changes add; a link to one passes only while it is missing, with a note, and is checked once it exists.

const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown) {
  const anchors = new Set();
  const seen = new Map();
  for (const line of withoutCodeBlocks(markdown).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Fenced code is not prose: a `[x](y)` or `# comment` inside it is neither a link nor a heading. */
const withoutCodeBlocks = (markdown) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");

/** Inline links and images, `[text](target)`, outside code spans and fenced blocks. */
function linksOf(markdown) {
  const prose = withoutCodeBlocks(markdown).replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]);
}

const anchorCache = new Map();
const anchorsIn = (file) => {
  if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, "utf8")));
  return anchorCache.get(file);
};

const problems = [];
for (const page of pages) {
  const file = join(root, page);
  const text = readFileSync(file, "utf8");
  if (page === "README.md") {
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > README_MAX_LINES) problems.push(`README.md has ${lines} lines; keep it to ${README_MAX_LINES} and move the rest into docs/.`);
  }
  for (const target of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
    const [path, anchor] = target.split("#", 2);
    const linked = path ? resolve(dirname(file), decodeURI(path)) : file;
    const shown = relative(root, linked);
    if (!existsSync(linked)) {
      problems.push(`${page}: the link ${target} points to ${shown}, which does not exist.`);
      continue;
    }
    if (anchor && statSync(linked).isFile() && linked.endsWith(".md") && !anchorsIn(linked).has(anchor)) {
      problems.push(`${page}: the link ${target} names #${anchor}, which is no heading of ${shown}.`);
    }
  }
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`docs: ${pages.length} pages, every relative link resolves.`);
