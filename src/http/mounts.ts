/** Where the tenant API is served: its documented prefix first, then the aliases that serve the same routes. */
export const API_MOUNTS = ["/api/v1", "/hub-api/api/v1", "/v1"] as const;
