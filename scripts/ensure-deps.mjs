// Makes `npm test`, `npm run dev` and friends work as the first command after a clone:
// installs the npm dependencies when node_modules is missing or older than the lockfile.
// Plain Node with no dependencies, because it runs before any are installed, on whatever Node the
// machine has. The dependencies include the `node` package pinned to Lambda's major: npm scripts
// find it first on the PATH (node_modules/.bin), so everything after this step runs on it.
import { execFileSync, execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lockfile = join(root, "package-lock.json");
const stamp = join(root, "node_modules", ".payments-install-stamp");

const [major] = process.versions.node.split(".").map(Number);
if (major < 20) {
  console.error(
    `Node.js ${process.versions.node} is too old to install the project: install Node.js 20 or newer.`,
  );
  process.exit(1);
}

const digest = () => createHash("sha256").update(readFileSync(lockfile)).digest("hex");
const installed = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
if (installed !== digest()) {
  console.log(
    `Installing npm dependencies (package-lock.json changed or first run) with this machine's Node.js ${process.versions.node}; ` +
      "everything after runs on the project's pinned Node (npm may warn that the project wants another engine: expected).",
  );
  // Not `npm ci`: the registry mirror here lacks some other platforms' optional binaries (biome, sst),
  // which `npm ci` refuses to skip. `npm install` installs the locked versions and skips those.
  execSync("npm install --no-audit --no-fund", { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, `${digest()}\n`);
}

// The pinned Node must be there and be the pinned version: an install with scripts turned off
// (npm's ignore-scripts) leaves the `node` package without its binary.
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies.node;
const bin = join(root, "node_modules", ".bin", "node");
let found = "";
try {
  found = execFileSync(bin, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
} catch {
  found = "";
}
if (found !== pinned) {
  console.error(
    `The project's Node.js ${pinned} is ${found ? `${found} instead` : "missing"} in node_modules/.bin: ` +
      "delete node_modules and run the command again (with npm's install scripts allowed).",
  );
  process.exit(1);
}
