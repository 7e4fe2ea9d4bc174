import { functionHandlers } from "../packages/topology/src";
import { api } from "./api";
import { tokenEnvironment } from "./functions";
import { relayFunction } from "./outbox";
import { orderDlq, orderQueue } from "./queues";
import { secrets } from "./secrets";
import { readModels, transactionLog } from "./storage";

/**
 * The operations console (SPEC §7), served with the API under /console: its own function, so that
 * the API's bundle carries nothing of the relay. It reads the event store, the read models, the
 * delivery cursors and the order DLQ; it redrives deliveries (the relay's publishers) and DLQ
 * messages (back to the order queue).
 */
export const operationsConsole = new sst.aws.Function("OperationsConsole", {
  ...relayFunction,
  handler: functionHandlers.console,
  timeout: "30 seconds",
  link: [...relayFunction.link, readModels, transactionLog, orderQueue, orderDlq, secrets.JwtSecret],
  environment: { ...relayFunction.environment, ...tokenEnvironment },
});

api.route("ANY /console", operationsConsole.arn);
api.route("ANY /console/{proxy+}", operationsConsole.arn);
