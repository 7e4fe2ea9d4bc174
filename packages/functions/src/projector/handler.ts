import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoEventStore, createReadModelStore } from "@payments/adapters/dynamodb";
import { Resource } from "sst";
import { lazy } from "../shared/lazy";
import { logger, traced, withColdStartMetric } from "../shared/observability";
import { createProjector, createProjectorHandler } from "./project";

// Its own clients, not the payment flow's wiring: the projector never charges, so it bundles no Stripe.
const dynamodb = lazy(() => traced(new DynamoDBClient({})));
const projector = lazy(() =>
  createProjector({
    store: createDynamoEventStore({ client: dynamodb(), tableName: Resource.EventStore.name }),
    readModels: createReadModelStore({
      client: dynamodb(),
      tableName: Resource.ReadModels.name,
      transactionLogTableName: Resource.TransactionLog.name,
    }),
  }),
);

let handle: ReturnType<typeof createProjectorHandler> | undefined;
/** The projector: a DynamoDB Streams Lambda on the event table, filtered to event items. */
export const handler: ReturnType<typeof createProjectorHandler> = withColdStartMetric((event) => {
  handle ??= createProjectorHandler({ projector: projector(), logger });
  return handle(event);
});
