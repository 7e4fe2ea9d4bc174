// The browser tests drive Debian's Chromium (a browser that downloads itself cannot be fetched
// here). Installs it with apt when it is missing; idempotent, and quiet when it is there.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";

const candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
if (candidates.some((path) => existsSync(path))) process.exit(0);

const root = typeof process.getuid === "function" && process.getuid() === 0;
const sudo = root ? "" : "sudo -n ";
console.log("Installing Chromium from Debian's packages for the browser tests (apt-get install chromium)…");
try {
  execSync(
    `${sudo}apt-get update -qq && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium`,
    {
      stdio: "inherit",
    },
  );
} catch {
  console.error(
    "Chromium is missing and could not be installed: run `sudo apt-get install -y chromium` (the browser tests need /usr/bin/chromium).",
  );
  process.exit(1);
}
