import { spawnSync } from "node:child_process";
import { lambdaRuntime, nodeMajor } from "@payments/topology";

/** A tool the local stack needs is missing. The message is one line saying what to install. */
export class MissingPrerequisiteError extends Error {
  override readonly name = "MissingPrerequisiteError";
}

/** How each tool is asked for its version: go has no --version, java answers -version on stderr. */
const versionArgs: Record<string, string[]> = {
  java: ["-version"],
  go: ["version"],
  python3: ["--version"],
  mvn: ["--version"],
};

const hints: Record<string, string> = {
  java: "install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless)",
  python3: "install Python 3.10 or newer with venv (Debian: apt-get install python3 python3-venv)",
  go: "install Go 1.22 or newer (Debian: apt-get install golang)",
  mvn: "install Apache Maven (Debian: apt-get install maven)",
};

/**
 * Checks that a command is on the PATH.
 * @throws MissingPrerequisiteError naming the tool and how to install it
 */
export function requireCommand(command: keyof typeof hints): void {
  const found = spawnSync(command, versionArgs[command] ?? ["--version"], { stdio: "ignore" });
  if (found.error || found.status !== 0) {
    throw new MissingPrerequisiteError(`${command} was not found: ${hints[command]}`);
  }
}

/**
 * Checks that this process runs on Lambda's Node major ({@link nodeMajor}): the project pins the
 * `node` package of that major, and npm scripts put it first on the PATH. A script started some
 * other way (say, `npx tsx …` outside npm) would run on the machine's Node and test something else.
 * @throws MissingPrerequisiteError saying how to run it on the pinned Node
 */
export function requireLambdaNode(version: string = process.versions.node): void {
  const major = Number(version.split(".")[0]);
  if (major !== nodeMajor)
    throw new MissingPrerequisiteError(
      `this runs on Node.js ${version}, but Lambda runs Node.js ${nodeMajor} (${lambdaRuntime}): start it through npm (npm test, npm run dev, npm run …), which runs the project's pinned node from node_modules/.bin`,
    );
}
