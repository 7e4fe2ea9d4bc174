import { createReadModelStore } from "@payments/adapters/dynamodb";
import { defaultFraudThresholds } from "@payments/core";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger } from "../shared/observability";
import { createWiring } from "../shared/wiring";
import { createProjector, createProjectorHandler } from "./project";

// The projector screens nothing: the wiring's fraud thresholds are never used here.
const wiring = createWiring({ fraudThresholds: defaultFraudThresholds });
const projector = lazy(() =>
  createProjector({
    store: wiring.store(),
    readModels: createReadModelStore({
      client: wiring.dynamodb(),
      tableName: Resource.ReadModels.name,
      transactionLogTableName: Resource.TransactionLog.name,
    }),
  }),
);

let handle: ReturnType<typeof createProjectorHandler> | undefined;
/** The projector: a DynamoDB Streams Lambda on the event table, filtered to event items. */
export const handler: ReturnType<typeof createProjectorHandler> = (event) => {
  handle ??= createProjectorHandler({ projector: projector(), logger });
  return handle(event);
};
