import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { physicalName, secrets } from "@payments/topology";

export type SecretName = keyof typeof secrets;

/**
 * Dev defaults, printed by `npm run dev`, used when the environment does not set a secret.
 * Not secrets: they only ever meet local servers.
 */
export const devSecretDefaults: Record<SecretName, string> = {
  // stripe-mock accepts keys of the form sk_test_ followed by letters and digits only.
  StripeSecretKey: "sk_test_localdevkey",
  StripeWebhookSecret: "whsec_local_dev_secret",
  ZaloPayKey1: "zalopay-local-key1",
  ZaloPayKey2: "zalopay-local-key2",
  PayOSClientId: "payos-local-client-id",
  PayOSApiKey: "payos-local-api-key",
  PayOSChecksumKey: "payos-local-checksum-key",
  JwtSecret: "local-dev-jwt-secret-change-me",
  KafkaUsername: "",
  KafkaPassword: "",
};

/** Each secret's value: the environment variable when set, else the dev default. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): Record<SecretName, string> {
  return Object.fromEntries(
    (Object.keys(secrets) as SecretName[]).map((name) => [
      name,
      env[secrets[name].env] ?? devSecretDefaults[name],
    ]),
  ) as Record<SecretName, string>;
}

/**
 * The `iss` and `aud` the local stack checks (SPEC §4.2: the dev stack sets both): `JWT_ISSUER` and
 * `JWT_AUDIENCE` when set, else these defaults. `npm run dev` checks them and `npm run token` signs them.
 */
export function devTokenClaims(env: NodeJS.ProcessEnv = process.env): { issuer: string; audience: string } {
  return { issuer: env.JWT_ISSUER || "payments-local", audience: env.JWT_AUDIENCE || "payments-api" };
}

/** Stores the secrets in Secrets Manager, idempotently (an existing secret gets the new value). */
export async function ensureSecrets(
  client: SecretsManagerClient,
  stage: string,
  values: Record<SecretName, string>,
): Promise<Record<SecretName, { name: string; arn: string }>> {
  const out = {} as Record<SecretName, { name: string; arn: string }>;
  for (const [key, value] of Object.entries(values) as Array<[SecretName, string]>) {
    const name = physicalName(stage, key);
    try {
      const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: value || " " }));
      out[key] = { name, arn: created.ARN! };
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const updated = await client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: value || " " }),
      );
      out[key] = { name, arn: updated.ARN! };
    }
  }
  return out;
}

/**
 * Which secrets the environment set, and the dev defaults of the others: what may be printed. A
 * value from the environment is never shown, only its name.
 */
export function describeSecrets(env: NodeJS.ProcessEnv = process.env): {
  fromEnvironment: SecretName[];
  defaults: Array<[SecretName, string]>;
} {
  const names = Object.keys(secrets) as SecretName[];
  return {
    fromEnvironment: names.filter((name) => env[secrets[name].env] !== undefined),
    defaults: names
      .filter((name) => env[secrets[name].env] === undefined && devSecretDefaults[name])
      .map((name) => [name, devSecretDefaults[name]]),
  };
}
