/** The browser tests' loopback ports: the Worker, the customer's page (another origin), and a proxy that can cut connections. */
export const WORKER_PORT = 8840;
export const PAGE_PORT = 8841;
export const PROXY_PORT = 8842;
export const DASHBOARD_PAGE_PORT = 8843;
