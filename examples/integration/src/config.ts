// Everything the example needs, read from the environment once, at start.

export type Config = {
  /** The GraphQL endpoint, e.g. https://latchkey.example.com/graphql (WebSockets use the same path). */
  apiUrl: string;
  /** An API key (`lk_…`) with READ_DIRECTORY and READ_LOGIN_EVENTS. */
  apiKey: string;
  /** The customer whose desktop logins to follow. */
  tenantId: string;
  /** The webhook's signing secret (`whsec_…`), shown once by createWebhook. */
  webhookSecret: string;
  /** The port the webhook receiver listens on. */
  receiverPort: number;
  /** Customers per page, and users per customer in that same query (each at most 100). */
  customersPageSize: number;
  usersPageSize: number;
  /** How long to wait for the first login event and the first webhook before giving up. */
  waitSeconds: number;
};

export function readConfig(env: NodeJS.ProcessEnv): Config {
  const required = (name: string) => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw) : fallback;
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
  return {
    apiUrl: required("LATCHKEY_API_URL"),
    apiKey: required("LATCHKEY_API_KEY"),
    tenantId: required("LATCHKEY_TENANT_ID"),
    webhookSecret: required("LATCHKEY_WEBHOOK_SECRET"),
    receiverPort: integer("LATCHKEY_RECEIVER_PORT", 8080, 1, 65535),
    // The API refuses pages above 100 rather than cutting them short.
    customersPageSize: integer("LATCHKEY_CUSTOMERS_PAGE_SIZE", 20, 1, 100),
    usersPageSize: integer("LATCHKEY_USERS_PAGE_SIZE", 20, 1, 100),
    waitSeconds: integer("LATCHKEY_WAIT_SECONDS", 300, 1, 86_400),
  };
}
