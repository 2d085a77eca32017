// npm run bench -- <name…>: runs the named benchmarks (all when none are named).
import { benchDispatch } from "./dispatch.mjs";
import { benchEvents } from "./events.mjs";
import { benchIngest } from "./ingest.mjs";
import { benchWidget } from "./widget.mjs";

const benches = { ingest: benchIngest, dispatch: benchDispatch, events: benchEvents, widget: benchWidget };
const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = names.filter((n) => !(n in benches));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benches).join(", ")}.`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(benches)) await benches[name]();
