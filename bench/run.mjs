// npm run bench -- <name…> [--option=value…]: runs the named benchmarks (all when none are named)
// and hands every --option=value to each of them (see each benchmark for the options it reads).
import { benchApi } from "./api.mjs";
import { benchCost } from "./cost.mjs";
import { benchDispatch } from "./dispatch.mjs";
import { benchDnc } from "./dnc.mjs";
import { benchEvents } from "./events.mjs";
import { benchExport } from "./export.mjs";
import { benchIngest } from "./ingest.mjs";
import { benchPolicy } from "./policy.mjs";
import { benchResults } from "./results.mjs";
import { benchWebhooks } from "./webhooks.mjs";
import { benchWidget } from "./widget.mjs";

const benches = {
  ingest: benchIngest,
  dispatch: benchDispatch,
  events: benchEvents,
  dnc: benchDnc,
  widget: benchWidget,
  webhooks: benchWebhooks,
  export: benchExport,
  results: benchResults,
  policy: benchPolicy,
  cost: benchCost,
  api: benchApi,
};
const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const options = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith("--"))
    .map((a) => {
      const [key, ...value] = a.slice(2).split("=");
      return [key, value.length > 0 ? value.join("=") : "true"];
    }),
);
const unknown = names.filter((n) => !(n in benches));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(benches).join(", ")}.`);
  process.exit(2);
}
let failed = false;
for (const name of names.length > 0 ? names : Object.keys(benches)) {
  if ((await benches[name](options)) === false) failed = true;
}
if (failed) process.exit(1);
