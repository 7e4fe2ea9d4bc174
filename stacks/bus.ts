import { eventBus } from "../packages/topology/src";
import { downstreamQueue, orderStatusQueue } from "./queues";

/** The bus the outbox relay publishes every event to. */
export const bus = new sst.aws.Bus(eventBus.name);

const rule = eventBus.rules.capturedToDownstream;
bus.subscribeQueue(rule.name, downstreamQueue, {
  pattern: { source: [...rule.pattern.source], detailType: [...rule.pattern["detail-type"]] },
});

const outcomes = eventBus.rules.orderStatus;
bus.subscribeQueue(outcomes.name, orderStatusQueue, {
  pattern: { source: [...outcomes.pattern.source], detailType: [...outcomes.pattern["detail-type"]] },
});
