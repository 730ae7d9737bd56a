// The device cookie (OWASP's "device cookies" against lock-out): after a
// successful sign-in the browser gets a random device id, and for each account
// it signed in to, a MAC binding that id to the account. Presented again, it
// makes the browser a known client of that account (see sign-in-admission.ts).
// Nothing is stored server-side; a browser keeps entries for its few most
// recent accounts (a technician works in several tenants).
//
//   cookie value  <entry>.<entry>…   (most recent first, at most MAX_ENTRIES)
//   entry         <device id>:<mac>
//   mac           base64url(HMAC-SHA256(key, "latchkey-device-v1|" + device id + "|" + user id))
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const MAX_ENTRIES = 5;
/** Longest cookie value we read; anything longer is not ours. */
const MAX_VALUE_LENGTH = 1024;
const ID = /^[A-Za-z0-9_-]{22}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

export const DEVICE_COOKIE_LIFETIME_DAYS = 180;

type Entry = { deviceId: string; mac: string };

export class DeviceCookies {
  constructor(private readonly key: Buffer) {}

  /** The device id the cookie vouches for with this user, or null. */
  trustedDevice(value: string | null, userId: string): string | null {
    for (const entry of parse(value)) {
      if (sameMac(entry.mac, this.mac(entry.deviceId, userId))) return entry.deviceId;
    }
    return null;
  }

  /**
   * The cookie's value after `userId` signed in on this browser: its entry
   * first, under the browser's existing device id if it had one.
   */
  issue(value: string | null, userId: string): string {
    const entries = parse(value);
    const deviceId = entries[0]?.deviceId ?? randomBytes(16).toString("base64url");
    const others = entries.filter((entry) => !sameMac(entry.mac, this.mac(entry.deviceId, userId)));
    return [{ deviceId, mac: this.mac(deviceId, userId) }, ...others]
      .slice(0, MAX_ENTRIES)
      .map((entry) => `${entry.deviceId}:${entry.mac}`)
      .join(".");
  }

  private mac(deviceId: string, userId: string) {
    return createHmac("sha256", this.key).update(`latchkey-device-v1|${deviceId}|${userId}`).digest("base64url");
  }
}

function parse(value: string | null): Entry[] {
  if (!value || value.length > MAX_VALUE_LENGTH) return [];
  return value
    .split(".")
    .map((part) => {
      const [deviceId, mac] = part.split(":");
      return deviceId && mac && ID.test(deviceId) && MAC.test(mac) ? { deviceId, mac } : null;
    })
    .filter((entry): entry is Entry => entry !== null)
    .slice(0, MAX_ENTRIES);
}

function sameMac(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
