import { fraudThresholdsFromConfig } from "@payments/core";
import { metrics, withColdStartMetric } from "../shared/observability";
import { createWiring } from "../shared/wiring";
import { createPaymentTasks } from "./tasks";

const wiring = createWiring({ fraudThresholds: fraudThresholdsFromConfig(process.env) });
const tasks = createPaymentTasks({ payments: wiring.payments, metrics });

/** Step Functions task `collect` (SPEC §4.4), invoked directly with `{paymentId, amount?}`. */
export const collect = withColdStartMetric((input: unknown) => tasks.collect(input));
/** Step Functions task `refund` (SPEC §4.4), invoked directly with `{paymentId, amount?, reason?}`. */
export const refund = withColdStartMetric((input: unknown) => tasks.refund(input));
