// A local webhook receiver that verifies every message with the standardwebhooks library:
//   WEBHOOK_SECRET=whsec_… PORT=9000 node examples/webhook-receiver.mjs
// Register it with POST /api/v1/webhooks {"url": "http://127.0.0.1:9000/"} (plain http to
// loopback is accepted where the simulator is enabled, as under `npm start`).
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error("Set WEBHOOK_SECRET to the whsec_… secret the endpoint's create response showed.");
  process.exit(2);
}
const webhook = new Webhook(secret);
const port = Number(process.env.PORT ?? 9000);

createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const message = webhook.verify(body, req.headers);
      const subject = message.data.phone_number ?? message.data.name ?? message.data.endpoint_id ?? "";
      console.log(req.headers["webhook-id"], message.type, subject, message.data.status ?? "");
      res.writeHead(204).end();
    } catch (error) {
      // A bad signature or a stale timestamp: refuse it, and edgedial retries it on its schedule.
      console.error("refused:", error.message);
      res.writeHead(400).end();
    }
  });
}).listen(port, "127.0.0.1", () => console.log(`verifying webhooks on http://127.0.0.1:${port}/`));
