import { eventItemFilter, streamSubscriptions } from "../packages/topology/src";
import { lambdaDefaults } from "./functions";
import { projectorFailures } from "./queues";
import { eventStore, readModels, transactionLog } from "./storage";

const settings = streamSubscriptions.projector;

/** The projector: the event table's stream, event items only, partial batch responses (SPEC §8). */
export const projector = eventStore.subscribe(
  "Projector",
  {
    ...lambdaDefaults,
    handler: "packages/functions/src/projector/handler.handler",
    timeout: "60 seconds",
    memory: "512 MB",
    link: [eventStore, readModels, transactionLog],
  },
  {
    filters: [eventItemFilter],
    transform: {
      eventSourceMapping: (args) => {
        args.batchSize = settings.batchSize;
        args.bisectBatchOnFunctionError = settings.bisectOnError;
        args.maximumRetryAttempts = settings.maxRetries;
        args.functionResponseTypes = ["ReportBatchItemFailures"];
        args.destinationConfig = { onFailure: { destinationArn: projectorFailures.arn } };
      },
    },
  },
);
