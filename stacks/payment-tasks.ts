import { functionHandlers, stepFunctionTasks, taskParameterName } from "../packages/topology/src";
import { payos, stripe, zalopay } from "./config";
import { fraudEnvironment, lambdaDefaults } from "./functions";
import { secrets } from "./secrets";
import { eventStore, readModels } from "./storage";

/** The Step Functions tasks `collect` and `refund` (SPEC §4.4), invoked directly by state machines. */
export const paymentTasks = Object.fromEntries(
  stepFunctionTasks.map((task) => {
    const fn = new sst.aws.Function(`PaymentTask${task[0]!.toUpperCase()}${task.slice(1)}`, {
      ...lambdaDefaults,
      handler: functionHandlers[`${task}Task`],
      timeout: "30 seconds",
      memory: "512 MB",
      // A refund of a ZaloPay payment goes to ZaloPay; a cancel of a PayOS link, to PayOS.
      link: [
        eventStore,
        readModels,
        stripe,
        secrets.StripeSecretKey,
        zalopay,
        secrets.ZaloPayKey1,
        payos,
        secrets.PayOSClientId,
        secrets.PayOSApiKey,
        secrets.PayOSChecksumKey,
      ],
      environment: fraudEnvironment,
    });
    // Existing state machines find the function by this parameter (SPEC §8).
    new aws.ssm.Parameter(`PaymentTask${task}Arn`, {
      name: taskParameterName($app.stage, task),
      type: "String",
      value: fn.arn,
    });
    return [task, fn];
  }),
) as Record<(typeof stepFunctionTasks)[number], sst.aws.Function>;
