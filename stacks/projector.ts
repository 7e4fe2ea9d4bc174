import { functionHandlers, streamSubscriptions } from "../packages/topology/src";
import { eventStreamSubscription, lambdaDefaults } from "./functions";
import { projectorFailures } from "./queues";
import { eventStore, readModels, transactionLog } from "./storage";

/** The projector: the event table's stream, event items only, partial batch responses (SPEC §8). */
export const projector = eventStore.subscribe(
  "Projector",
  {
    ...lambdaDefaults,
    handler: functionHandlers.projector,
    timeout: "60 seconds",
    memory: "512 MB",
    link: [eventStore, readModels, transactionLog],
  },
  eventStreamSubscription(streamSubscriptions.projector, projectorFailures),
);
