// The test plugin's `cloudflare:workers` exports are typed from the Worker's entry module.
declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "CampaignDO" | "AccountDO" | "SimulatorDO" | "WebhookSinkDO";
    }
  }
}

export {};
