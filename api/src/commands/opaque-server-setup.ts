// Prints a new OPAQUE server setup for OPAQUE_SERVER_SETUP. Generate it once
// per deployment, give it to every instance, and keep a copy with the
// key-encryption key: without it no password can be verified.
import { createServerSetup } from "@latchkey/schema";

console.log(await createServerSetup());
