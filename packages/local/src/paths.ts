import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where downloaded servers, jars, venvs and binaries are cached: outside the checkout, so that a
 * second clone starts fast. PAYMENTS_CACHE_DIR overrides it.
 */
export function cacheDir(): string {
  return (
    process.env.PAYMENTS_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "payments-local")
  );
}
