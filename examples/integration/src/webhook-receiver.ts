// An HTTP endpoint for Latchkey's webhooks: a delivery is read only once its
// signature is verified with the webhook's secret (Standard Webhooks).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";

/** What Latchkey POSTs: the event's type, when it happened, and its fields. */
export type WebhookEvent = { type: string; timestamp: string; data: Record<string, unknown> };

/** A verified delivery: `id` is the same on every retry and replay of it. */
export type Delivery = { id: string; event: WebhookEvent };

export type WebhookReceiver = {
  port: number;
  /** The first delivery whose signature was verified. */
  firstDelivery: Promise<Delivery>;
  close: () => Promise<void>;
};

const PATH = "/webhooks/latchkey";
const MAX_BODY_BYTES = 1024 * 1024;

export async function startWebhookReceiver(options: {
  port: number;
  secret: string;
  onDelivery: (delivery: Delivery) => void;
  onRefused: (reason: string) => void;
}): Promise<WebhookReceiver> {
  // The secret as createWebhook showed it, `whsec_…`.
  const verifier = new Webhook(options.secret);
  // A real receiver keeps these in its database, to drop a retried delivery it already handled.
  const handled = new Set<string>();
  let resolveFirst: (delivery: Delivery) => void = () => {};
  const firstDelivery = new Promise<Delivery>((resolve) => (resolveFirst = resolve));

  async function handle(request: IncomingMessage, response: ServerResponse) {
    if (new URL(request.url ?? "/", "http://receiver").pathname !== PATH) {
      response.writeHead(404).end();
      return;
    }
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const body = await readBody(request);
    if (body === null) {
      response.writeHead(413).end();
      return;
    }

    const headers = signatureHeaders(request);
    let event: WebhookEvent;
    try {
      // Checks the HMAC over id, timestamp and the raw body, and that the timestamp is within 5 minutes.
      event = verifier.verify(body, headers) as WebhookEvent;
    } catch (error) {
      options.onRefused(error instanceof Error ? error.message : String(error));
      response.writeHead(400, { "content-type": "text/plain" }).end("Invalid webhook signature\n");
      return;
    }
    const delivery = { id: headers["webhook-id"], event };
    if (!handled.has(delivery.id)) {
      handled.add(delivery.id);
      // Answer within 10 seconds, or Latchkey retries: slow work belongs in a queue of your own.
      options.onDelivery(delivery);
      resolveFirst(delivery);
    }
    response.writeHead(204).end();
  }

  // A request that breaks off midway gets no answer.
  const server = createServer((request, response) => void handle(request, response).catch(() => response.destroy()));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    firstDelivery,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The three Standard Webhooks headers (missing ones empty, which verification refuses). */
function signatureHeaders(request: IncomingMessage) {
  const header = (name: string) => [request.headers[name] ?? ""].flat()[0] ?? "";
  return {
    "webhook-id": header("webhook-id"),
    "webhook-timestamp": header("webhook-timestamp"),
    "webhook-signature": header("webhook-signature"),
  };
}

/** The raw body, exactly as sent (the signature covers its bytes); null when it is too large. */
async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
