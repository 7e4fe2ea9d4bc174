/**
 * Imported first by every command's entry: a command run on another Node than Lambda's would
 * measure, test or serve something else, so it stops with one line saying how to run it.
 */
import { MissingPrerequisiteError, requireLambdaNode } from "@payments/local";

try {
  requireLambdaNode();
} catch (error) {
  if (!(error instanceof MissingPrerequisiteError)) throw error;
  console.error(error.message);
  process.exit(1);
}
