import { describe, expect, inject, it } from "vitest";
import { type Terminal, watchCampaign } from "../../cli/watch";
import { Edgedial } from "../../client/index";

/** What a terminal was sent, split into the frames drawn between cursor moves. */
function recordingTerminal(columns: number): Terminal & { output: string[] } {
  const output: string[] = [];
  return { output, write: (text) => void output.push(text), live: true, columns: () => columns, color: true };
}

/** The escape character as a visible stand-in, so the frames can be matched with plain regexes. */
const visible = (text: string) => text.replaceAll("\u001b", "⎋");
const uncoloured = (text: string) => visible(text).replace(/⎋\[[0-9;]*m/g, "");

describe("watch in a terminal", () => {
  it("redraws two lines in place until the campaign completes, then shows the cursor again", async () => {
    const { origin, tenant } = inject("cli");
    const client = new Edgedial({ apiKey: tenant.key, baseUrl: origin });
    const contacts = [10, 11, 12, 13].map((n) => ({ phone_number: `+1415555${String(n).padStart(4, "0")}` }));
    const created = await client.campaigns.create({ name: "Live bar", agent_id: tenant.agentId, phone_number_id: tenant.numberId, contacts });
    await client.campaigns.start(created.id);
    const terminal = recordingTerminal(100);
    const result = await watchCampaign(client, created.id, terminal);

    expect(result.code).toBe(0);
    expect(result.view.stats).toMatchObject({ total: 4, completed: 4 });
    const [first, ...redraws] = terminal.output.map(uncoloured);
    expect(first, "the first frame hides the cursor and draws two lines").toMatch(/^⎋\[\?25l(\r⎋\[2K[^\n]*\n){2}$/);
    expect(redraws.length, "the bar was drawn again as the calls went").toBeGreaterThan(1);
    const frames = redraws.filter((text) => text.startsWith("⎋[2A"));
    for (const frame of frames) expect(frame, "each redraw goes back up over the two lines it replaces").toMatch(/^⎋\[2A(\r⎋\[2K[^\n]*\n){2}$/);
    expect(redraws.at(-1)).toBe("⎋[?25h");
    const last =
      frames
        .at(-1)
        ?.replace(/⎋\[2A|⎋\[2K/g, "")
        .split("\n") ?? [];
    expect(last[0]).toMatch(/^\rLive bar · completed {2}\[█+\] {2}100% {2}4\/4$/);
    expect(last[0]?.length).toBeLessThanOrEqual(101);
    expect(last[1]).toMatch(/completed 4 .* 0 in flight · 4 dials\/min$/);
  });
});
