/**
 * `npm run token [-- --read-only] [--subject NAME] [--hours N]`: prints a bearer token for the API,
 * signed with JWT_SECRET or the dev default (the same secret `npm run dev` links), with `iss` and
 * `aud` from JWT_ISSUER / JWT_AUDIENCE or the dev stack's defaults (the claims `npm run dev` checks).
 */
import "../shared/lambda-node";
import { parseArgs } from "node:util";
import { issueToken } from "@payments/functions/api/auth";
import { devTokenClaims, secretValues } from "@payments/local";

const { values } = parseArgs({
  options: {
    "read-only": { type: "boolean", default: false },
    subject: { type: "string", default: "dev" },
    hours: { type: "string", default: "12" },
  },
});
const hours = Number(values.hours);
if (!Number.isFinite(hours) || hours <= 0) {
  console.error(`--hours must be a positive number, not ${values.hours}`);
  process.exit(1);
}
const token = await issueToken(secretValues().JwtSecret, {
  subject: values.subject,
  scopes: values["read-only"] ? ["payments:read"] : ["payments:read", "payments:write"],
  ttlSeconds: Math.round(hours * 3600),
  ...devTokenClaims(),
});
console.log(token);
