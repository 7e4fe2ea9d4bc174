// Makes `npm test`, `npm run dev` and friends work as the first command after a clone:
// installs the npm dependencies when node_modules is missing or older than the lockfile.
// Plain Node with no dependencies, because it runs before any are installed.
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lockfile = join(root, "package-lock.json");
const stamp = join(root, "node_modules", ".payments-install-stamp");

const [major] = process.versions.node.split(".").map(Number);
if (major < 20) {
  console.error(`Node.js ${process.versions.node} is too old: install Node.js 20 or newer.`);
  process.exit(1);
}

const digest = () => createHash("sha256").update(readFileSync(lockfile)).digest("hex");
const installed = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
if (installed !== digest()) {
  console.log("Installing npm dependencies (package-lock.json changed or first run)…");
  // Not `npm ci`: the registry mirror here lacks some other platforms' optional binaries (biome, sst),
  // which `npm ci` refuses to skip. `npm install` installs the locked versions and skips those.
  execSync("npm install --no-audit --no-fund", { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, `${digest()}\n`);
}
