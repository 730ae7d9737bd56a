// Rewraps every tenant key from the current key-encryption key to a new one:
// the customer tenants' private keys (what passwords are sealed to) and the
// data keys that encrypt webhook signing secrets:
//
//   KEY_ENCRYPTION_KEY=<old> KEY_ENCRYPTION_KEY_ID=<old id> \
//   NEW_KEY_ENCRYPTION_KEY=<new> NEW_KEY_ENCRYPTION_KEY_ID=<new id> \
//   npm run rewrap-keys --workspace @latchkey/api
//
// Only the small wrapped keys change; sealed passwords and ciphertexts stay as
// they are. One transaction per key, so an interrupted run is simply run again.
// Once every key is under the new one, the deployment's recorded fingerprint
// of the key-encryption key becomes the new key's, so instances started with
// it are let in and any still given the old one are refused.
// With the embedded database the old key is the one generated under DATA_DIR
// (when KEY_ENCRYPTION_KEY is unset), and the API must be stopped first: only
// one process may open an embedded database.
import { openDatabase } from "@latchkey/db";
import { rewrapTenantKeyPairs, rewrapTenantKeys, type RewrapReport } from "@latchkey/schema";
import { loadConfig, loadNewKeyEncryptionKey } from "../config.ts";
import { closeDatabase, runCommand } from "./command.ts";
import { resolveKeyEncryptionKey } from "../key-encryption-key.ts";
import { recordRewrappedKeyEncryptionKey } from "../secret-fingerprints.ts";

async function main() {
  const config = loadConfig();
  const to = loadNewKeyEncryptionKey();
  const from = await resolveKeyEncryptionKey(config, { generate: false });
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
    poolSize: 2,
  });
  try {
    let failed = 0;
    for (const [what, rewrap] of [
      ["tenant key pairs", rewrapTenantKeyPairs],
      ["tenant data keys", rewrapTenantKeys],
    ] as const) {
      console.log(`rewrapping ${what} from key-encryption key "${from.id}" to "${to.id}"`);
      const report: RewrapReport = await rewrap(db.prisma, from, to);
      console.log(`rewrapped: ${report.rewrapped}`);
      console.log(`already under "${to.id}": ${report.alreadyCurrent}`);
      const others = Object.entries(report.otherKeyIds);
      const otherCount = others.reduce((sum, [, count]) => sum + count, 0);
      console.log(`under other key ids, left as they are: ${otherCount}${others.length ? ` (${others.map(([id, count]) => `"${id}": ${count}`).join(", ")})` : ""}`);
      console.log(`failed: ${report.failed.length}`);
      for (const failure of report.failed) console.error(`  tenant ${failure.tenantId}: ${failure.reason}`);
      failed += report.failed.length;
    }
    if (failed > 0) {
      console.error(`Some keys labelled "${from.id}" do not open with KEY_ENCRYPTION_KEY: is it the right key?`);
      console.error(`The deployment's recorded key-encryption key is still "${from.id}".`);
      return 1;
    }
    const deployments = await recordRewrappedKeyEncryptionKey(db.prisma, from, to);
    console.log(`recorded "${to.id}" as the key-encryption key of ${deployments} deployment(s) that had "${from.id}"`);
    console.log(`done: start every API instance with KEY_ENCRYPTION_KEY and KEY_ENCRYPTION_KEY_ID set to the new key ("${to.id}")`);
    return 0;
  } finally {
    await closeDatabase(db, config);
  }
}

runCommand(main);
