// The whole integration in order: start the webhook receiver, read the
// directory, wait for a desktop login on the live feed and for its webhook.
import { GraphQLClient } from "graphql-request";
import { readConfig } from "./config.ts";
import { listCustomersWithUsers } from "./directory.ts";
import { firstLoginEvent } from "./login-events.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

async function main() {
  const config = readConfig(process.env);

  // The receiver first, so that no delivery finds it closed (Latchkey would retry only after 30 s).
  const receiver = await startWebhookReceiver({
    port: config.receiverPort,
    secret: config.webhookSecret,
    onDelivery: ({ id, event }) => console.log(`Webhook verified: ${id} ${event.type} ${JSON.stringify(event.data)}`),
    onRefused: (reason) => console.log(`Webhook refused: ${reason}`),
  });
  console.log(`Webhook receiver listening on port ${receiver.port}`);

  try {
    // Every customer with every one of its users.
    const client = new GraphQLClient(config.apiUrl, { headers: { authorization: `Bearer ${config.apiKey}` } });
    const customers = await listCustomersWithUsers(client, { customers: config.customersPageSize, users: config.usersPageSize });
    for (const customer of customers) {
      console.log(`Customer ${customer.id} ${JSON.stringify(customer.displayName)}: ${customer.userCount} users`);
      for (const user of customer.users) console.log(`  user ${user.id} ${user.email}`);
    }
    const userTotal = customers.reduce((sum, customer) => sum + customer.users.length, 0);
    console.log(`Listed ${customers.length} customers and ${userTotal} users`);

    // The first desktop login at one of the tenant's workstations, from the live feed.
    const loginEvent = await within(
      config.waitSeconds,
      "a login event",
      firstLoginEvent({
        apiUrl: config.apiUrl,
        apiKey: config.apiKey,
        tenantId: config.tenantId,
        onConnected: () => console.log(`Waiting for login events of tenant ${config.tenantId}`),
      }),
    );
    console.log(`Login event: ${JSON.stringify(loginEvent)}`);

    // A verified webhook: that login's, or an earlier delivery.
    const delivery = await within(config.waitSeconds, "a verified webhook", receiver.firstDelivery);
    console.log(`Done: a login event on the live feed and a verified webhook (${delivery.event.type})`);
  } finally {
    await receiver.close();
  }
}

/** `promise`, or a failure after `seconds`. */
async function within<T>(seconds: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No ${what} within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

main().catch((error: unknown) => {
  console.error(`Failed: ${error instanceof Error ? error.message : String(error)}`);
  // A subscription may still be open: leave without waiting for it.
  process.exit(1);
});
