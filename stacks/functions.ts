import { eventItemFilter } from "../packages/topology/src";

/** What every Lambda of the service shares: the runtime, architecture and bundling of topology. */
export { lambdaDefaults } from "../packages/topology/src";

/** Fraud screening's thresholds, set on every function that can screen a payment. */
export const fraudEnvironment = { DEFAULT_CURRENCY: "usd", FRAUD_REVIEW_AT: "60", FRAUD_REJECT_AT: "85" };

/**
 * The `iss` and `aud` every bearer token must carry (SPEC §4.2), from the deploying shell's
 * JWT_ISSUER / JWT_AUDIENCE; unset, they are not checked. Set on the API and the console.
 */
export const tokenEnvironment: Record<string, string> = Object.fromEntries(
  (["JWT_ISSUER", "JWT_AUDIENCE"] as const).flatMap((name) =>
    process.env[name] ? [[name, process.env[name]]] : [],
  ),
);

/**
 * A stream subscription on the event table as SPEC §8 has them: event items only, the topology's
 * batch size, bisect and retries, partial batch responses, and an on-failure queue.
 */
export function eventStreamSubscription(
  settings: { batchSize: number; maxRetries: number; bisectOnError: boolean },
  onFailure: sst.aws.Queue,
) {
  return {
    filters: [eventItemFilter],
    transform: {
      eventSourceMapping: (args: aws.lambda.EventSourceMappingArgs): undefined => {
        args.batchSize = settings.batchSize;
        args.bisectBatchOnFunctionError = settings.bisectOnError;
        args.maximumRetryAttempts = settings.maxRetries;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.destinationConfig = { onFailure: { destinationArn: onFailure.arn } };
        return undefined;
      },
    },
  };
}
