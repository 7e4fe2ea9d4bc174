import { functionHandlers, reconcilerDefaults, schedules } from "../packages/topology/src";
import { payos, stripe, zalopay } from "./config";
import { fraudEnvironment, lambdaDefaults } from "./functions";
import { secrets } from "./secrets";
import { eventStore, readModels, transactionLog } from "./storage";

/**
 * The reconciler (SPEC §6.1): every 5 minutes, the payments open longer than RECONCILE_AFTER, read
 * from the open-payments index, asked about at their provider. At most one run at a time on AWS
 * (reserved concurrency 1); two at once would still be safe, since appends are conditional.
 */
export const reconciler = new sst.aws.Cron(schedules.reconciler.name, {
  schedule: schedules.reconciler.expression,
  function: {
    ...lambdaDefaults,
    handler: functionHandlers.reconciler,
    timeout: "240 seconds",
    memory: "512 MB",
    concurrency: { reserved: 1 },
    link: [
      eventStore,
      readModels,
      transactionLog,
      stripe,
      secrets.StripeSecretKey,
      zalopay,
      secrets.ZaloPayKey1,
      payos,
      secrets.PayOSClientId,
      secrets.PayOSApiKey,
      secrets.PayOSChecksumKey,
    ],
    environment: {
      ...fraudEnvironment,
      RECONCILE_AFTER: process.env.RECONCILE_AFTER ?? String(reconcilerDefaults.afterSeconds),
      RECONCILE_MAX_PER_RUN: String(reconcilerDefaults.maxPerRun),
    },
  },
});
