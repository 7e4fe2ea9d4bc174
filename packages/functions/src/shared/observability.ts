import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/** One logger and one metrics object per container, shared by the functions' code. */
export const logger = new Logger({ serviceName: "payments" });
export const metrics = new Metrics({ namespace: "Payments", serviceName: "payments" });
