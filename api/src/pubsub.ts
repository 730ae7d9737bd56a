// In-process pub/sub for one instance; Redis when several instances share work.
// Separate connections for publishing and subscribing: a subscribed Redis
// connection can do nothing else.
import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub } from "graphql-yoga";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { AppPubSub, Logger, Topics } from "@latchkey/schema";

export type PubSubHandle = {
  pubsub: AppPubSub;
  /** A connection for rate-limit counters and readiness checks; null in-process. */
  redis: Redis | null;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Calls `listener` whenever the subscriber connection comes back: what was
   * published meanwhile is lost. Returns a function that removes it.
   */
  onResumed(listener: () => void): () => void;
};

/**
 * Where Redis is: one server (a URL), a Sentinel-monitored primary (the
 * sentinels' addresses and the primary's name), or a Cluster (some of its
 * nodes). With Sentinel or Cluster, a URL still given supplies the credentials.
 */
export type RedisTarget = {
  url?: string;
  sentinels?: { host: string; port: number }[];
  sentinelMaster?: string;
  clusterNodes?: { host: string; port: number }[];
};

/** A connection as ioredis makes it for the target: it follows Sentinel's failovers and Cluster's slots itself. */
export function connectRedis(target: RedisTarget, options: RedisOptions): Redis {
  const url = target.url ? new URL(target.url) : null;
  const credentials: RedisOptions = url
    ? { username: decodeURIComponent(url.username) || undefined, password: decodeURIComponent(url.password) || undefined }
    : {};
  if (target.clusterNodes?.length) {
    // A Cluster speaks the same commands (pub/sub included) through its own client.
    return new Cluster(target.clusterNodes, {
      lazyConnect: options.lazyConnect,
      enableOfflineQueue: options.enableOfflineQueue,
      redisOptions: { ...options, ...credentials },
    }) as unknown as Redis;
  }
  if (target.sentinels?.length) {
    return new Redis({
      ...options,
      ...credentials,
      sentinels: target.sentinels,
      name: target.sentinelMaster ?? "mymaster",
      // Hears the sentinels announce a new primary and moves every connection to it at once.
      failoverDetector: true,
      // A demoted primary keeps its clients and refuses writes: reconnect to the new one and resend.
      reconnectOnError: (error) => (error.message.startsWith("READONLY") ? 2 : false),
    });
  }
  return new Redis(target.url!, options);
}

export function redisConfigured(target: RedisTarget | undefined): target is RedisTarget {
  return Boolean(target && (target.url || target.sentinels?.length || target.clusterNodes?.length));
}

export async function createAppPubSub(redisTarget: RedisTarget | string | undefined, log: Logger): Promise<PubSubHandle> {
  const target: RedisTarget | undefined = typeof redisTarget === "string" ? { url: redisTarget } : redisTarget;
  if (!redisConfigured(target)) {
    // One listener per open subscription on a topic such as a session's end:
    // many are normal, and Node's "possible leak" warning would bypass the log.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return {
      pubsub: createPubSub<Topics>({ eventTarget: eventTarget as never }),
      redis: null,
      ping: async () => {},
      close: async () => {},
      // In-process pub/sub cannot drop messages.
      onResumed: () => () => undefined,
    };
  }
  const connect = (role: string, failFast = false) => {
    // Counters fail fast while Redis is down (they fall back to memory); the
    // pub/sub connections queue and retry.
    // Named, so an operator (CLIENT LIST) tells the API's connections and their roles apart.
    const client = connectRedis(target, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: !failFast, connectionName: `latchkey-${role}` });
    client.on("error", (error) => log.warn("redis connection error", { role, error: error.message }));
    return client;
  };
  const publishClient = connect("publish");
  const subscribeClient = connect("subscribe");
  const commands = connect("commands", true);
  await Promise.all([publishClient.connect(), subscribeClient.connect(), commands.connect()]);

  // Redis forgets what it published while our subscriber was away; waiters
  // re-read when it is back. The first "ready" came with connect() above, so
  // every later one is a reconnection.
  const resumed = new Set<() => void>();
  subscribeClient.on("ready", () => {
    log.info("redis subscriber reconnected; waiters re-read their state", { waiters: resumed.size });
    for (const listener of resumed) listener();
  });

  // The event target fires Redis commands without awaiting them; while Redis is
  // down they reject. Every such failure is logged (the state is already in
  // the database, and waiters re-read it), never left as an unhandled rejection.
  const logged = (what: string) => (error: unknown) => log.error(`redis ${what} failed`, { error: String(error) });
  const publishing = {
    publish: (channel: string, message: string) => publishClient.publish(channel, message).catch(logged(`publish to ${channel}`)),
  };
  const subscribing = {
    on: (event: string, listener: Parameters<Redis["on"]>[1]) => subscribeClient.on(event, listener),
    subscribe: (channel: string) => subscribeClient.subscribe(channel).catch(logged(`subscribe to ${channel}`)),
    unsubscribe: (channel: string) => subscribeClient.unsubscribe(channel).catch(logged(`unsubscribe from ${channel}`)),
  };
  const eventTarget = createRedisEventTarget({
    publishClient: publishing as unknown as Redis,
    subscribeClient: subscribing as unknown as Redis,
  });
  const pubsub = createPubSub<Topics>({ eventTarget });
  return {
    pubsub,
    redis: commands,
    async ping() {
      await commands.ping();
    },
    onResumed(listener) {
      resumed.add(listener);
      return () => resumed.delete(listener);
    },
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
      commands.disconnect();
    },
  };
}
