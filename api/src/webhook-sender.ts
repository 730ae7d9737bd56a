// Sends webhook requests without becoming a way into the operator's network
// (SSRF): the target's name is resolved here, every address it resolves to is
// checked, and the connection goes to the address that was checked (a custom
// `lookup`, so a DNS answer that changes between check and connect, as in DNS
// rebinding, cannot slip through). The Host header and TLS SNI stay the URL's.
// No redirect is followed: a 3xx is a failed attempt.
import { lookup as systemLookup } from "node:dns/promises";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { refusedTarget, type TargetAllowance, type WebhookRequest, type WebhookSender } from "@latchkey/schema";

export type ResolvedAddress = { address: string; family: 4 | 6 };

/** Resolves a host name to every address it has (tests inject one that answers what they need). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await systemLookup(hostname, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));

/** How long a receiver has to answer. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export class WebhookTargetRefused extends Error {
  override name = "WebhookTargetRefused";
}

export function createWebhookSender(options: { allowance: TargetAllowance; resolve?: HostResolver; timeoutMs?: number }): WebhookSender {
  const resolve = options.resolve ?? systemResolver;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;

  const checkedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) throw new WebhookTargetRefused(`${hostname} did not resolve to any address`);
        for (const { address } of addresses) {
          const refused = refusedTarget(address, options.allowance);
          if (refused) throw new WebhookTargetRefused(`Refused: ${hostname} resolves to ${refused}`);
        }
        const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? addresses.filter((entry) => entry.family === lookupOptions.family) : addresses;
        if (lookupOptions.all) (callback as unknown as (error: null, addresses: ResolvedAddress[]) => void)(null, wanted);
        else if (wanted[0]) callback(null, wanted[0].address, wanted[0].family);
        else callback(new WebhookTargetRefused(`${hostname} has no IPv${lookupOptions.family} address`) as NodeJS.ErrnoException, "", 0);
      },
    ).catch((error: Error) => callback(error as NodeJS.ErrnoException, "", 0));
  };

  return {
    async check(url: string) {
      let host: string;
      try {
        host = new URL(url).hostname.replace(/^\[|\]$/g, "");
      } catch {
        return "Not a URL";
      }
      if (isIP(host)) return refusedTarget(host, options.allowance) ? "Not a public address" : null;
      let addresses: ResolvedAddress[];
      try {
        addresses = await resolve(host);
      } catch {
        return `${host} does not resolve`;
      }
      if (addresses.length === 0) return `${host} does not resolve`;
      const refused = addresses.find(({ address }) => refusedTarget(address, options.allowance));
      return refused ? `${host} resolves to ${refused.address}, which is not a public address` : null;
    },
    send(request: WebhookRequest) {
      return new Promise<{ status: number }>((done, fail) => {
        const url = new URL(request.url);
        const host = url.hostname.replace(/^\[|\]$/g, "");
        // A literal address is never looked up, so it is checked here.
        if (isIP(host)) {
          const refused = refusedTarget(host, options.allowance);
          if (refused) return fail(new WebhookTargetRefused(`Refused: ${refused}`));
        }
        const send = url.protocol === "https:" ? httpsRequest : url.protocol === "http:" ? httpRequest : null;
        if (!send) return fail(new WebhookTargetRefused(`Refused: ${url.protocol} is not http(s)`));
        const requestOptions: RequestOptions = {
          method: "POST",
          headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
          lookup: checkedLookup,
          // A connection of its own each time: nothing checked for one target is reused for another.
          agent: false,
          timeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs + 1_000),
        };
        const outgoing = send(url, requestOptions, (response) => {
          // The answer's body is not read: only its status counts.
          response.resume();
          response.destroy();
          done({ status: response.statusCode ?? 0 });
        });
        outgoing.on("timeout", () => outgoing.destroy(new Error(`No answer within ${timeoutMs / 1000} s`)));
        outgoing.on("error", (error) => fail(error));
        outgoing.end(request.body);
      });
    },
  };
}

/** Every instance claims due retries on its own timer; a conditional update lets one win each. */
export function startWebhookRetries(claim: () => Promise<number>, everyMs: number, onError: (error: unknown) => void) {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      // A full batch suggests more are due.
      while ((await claim()) >= 100);
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
