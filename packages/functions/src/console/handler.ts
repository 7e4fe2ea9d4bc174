import { SQSClient } from "@aws-sdk/client-sqs";
import {
  createDynamoEventStore,
  createOrderFailureNotes,
  createReadModelStore,
} from "@payments/adapters/dynamodb";
import { handle } from "hono/aws-lambda";
import { Resource } from "sst";
import { redrive } from "../outbox-relay/operations";
import { createRelayWiring } from "../outbox-relay/wiring";
import { replayProjections } from "../projector/replay";
import { reconcilerConfigFromEnv } from "../reconciler/reconciler";
import { createReconcileWiring } from "../reconciler/wiring";
import { lazy } from "../shared/lazy";
import { logger, traced, withColdStartMetric } from "../shared/observability";
import { createConsoleApp } from "./app";
import { createOrderDlq } from "./order-dlq";

/**
 * The operations console's function, routed under /console beside the API. Its own function, so
 * that the API bundles nothing of the relay: a delivery redrive here runs the relay's sweep, with
 * its publishers (one Kafka producer per container), as `npm run outbox -- redrive` does.
 */
const relay = createRelayWiring();
const store = lazy(() =>
  createDynamoEventStore({ client: relay.dynamodb(), tableName: Resource.EventStore.name }),
);
const readModels = lazy(() =>
  createReadModelStore({
    client: relay.dynamodb(),
    tableName: Resource.ReadModels.name,
    transactionLogTableName: Resource.TransactionLog.name,
  }),
);

const reconcile = createReconcileWiring();

export const consoleApp = createConsoleApp({
  jwtSecret: () => Resource.JwtSecret.value,
  store,
  readModels,
  deliveries: relay.deliveries,
  redriveDeliveries: () => redrive(relay.relay(), { failed: true, batchSize: relay.config.batchSize }),
  orderDlq: lazy(() =>
    createOrderDlq({
      sqs: traced(new SQSClient({})),
      dlqUrl: Resource.OrderDlq.url,
      queueUrl: Resource.OrderQueue.url,
      notes: createOrderFailureNotes({ client: relay.dynamodb(), tableName: Resource.ReadModels.name }),
    }),
  ),
  verify: () =>
    replayProjections(
      {
        client: relay.dynamodb(),
        eventsTable: Resource.EventStore.name,
        store: store(),
        readModels: readModels(),
      },
      { verify: true },
    ),
  attention: () => ({
    settle: reconcile.settle(),
    handle: reconcile.handle(),
    refund: (...args) => reconcile.payments().refund(...args),
  }),
  reconcileAfterMs: reconcilerConfigFromEnv().afterMs,
  logger,
});

export const handler = withColdStartMetric(handle(consoleApp));
