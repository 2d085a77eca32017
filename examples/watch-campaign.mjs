// Watch a campaign live: node examples/watch-campaign.mjs <campaign id>
// Uses EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL (http://127.0.0.1:8787 when unset).
import { Edgedial } from "edgedial/client";

const edgedial = new Edgedial();
for await (const event of edgedial.campaigns.streamEvents(process.argv[2])) {
  if (event.type === "contact") console.log(event.data.phone_number, event.data.status, event.data.outcome ?? "");
  if (event.type === "end") console.log("done:", event.data.stats);
}
