import {
  CreateEventBusCommand,
  DescribeEventBusCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceAlreadyExistsException,
} from "@aws-sdk/client-eventbridge";
import { eventBus, physicalName } from "@payments/topology";
import type { QueueHandle } from "./sqs-queues";

export interface BusHandle {
  readonly name: string;
  readonly arn: string;
}

/** Creates the event bus and its rules with their SQS targets, idempotently. */
export async function ensureEventBus(
  eventBridge: EventBridgeClient,
  stage: string,
  queues: Readonly<Record<string, QueueHandle>>,
): Promise<BusHandle> {
  const name = physicalName(stage, eventBus.name);
  try {
    await eventBridge.send(new CreateEventBusCommand({ Name: name }));
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
  const { Arn } = await eventBridge.send(new DescribeEventBusCommand({ Name: name }));
  for (const rule of Object.values(eventBus.rules)) {
    const target = queues[rule.targetQueue];
    if (!target)
      throw new Error(`rule ${rule.name} targets queue ${rule.targetQueue}, which was not created`);
    const ruleName = physicalName(stage, rule.name);
    // PutRule and PutTargets are upserts.
    await eventBridge.send(
      new PutRuleCommand({
        Name: ruleName,
        EventBusName: name,
        EventPattern: JSON.stringify(rule.pattern),
        State: "ENABLED",
      }),
    );
    await eventBridge.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: name,
        Targets: [{ Id: "queue", Arn: target.arn }],
      }),
    );
  }
  return { name, arn: Arn! };
}
