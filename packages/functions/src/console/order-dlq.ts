import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { OrderFailureNote, OrderFailureNotes } from "@payments/adapters/dynamodb";

/** A message of the order DLQ, as the console lists it. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  /** Receives so far, those on the order queue included (reading the DLQ counts too). */
  readonly receiveCount: number;
  readonly sentAt: string;
  /** Why its last receive on the order queue failed, when the processor could keep it. */
  readonly failure?: OrderFailureNote;
}

export interface OrderDlq {
  /** Up to `max` messages, without taking them: each is visible again at once. */
  list(max?: number): Promise<DeadLetter[]>;
  /**
   * Moves messages back to the order queue (all of them, or those with the given ids): each is
   * sent to the order queue first and deleted from the DLQ after, so a failure in between leaves a
   * copy in both places, never in neither. Returns how many moved.
   */
  redrive(messageIds?: readonly string[]): Promise<{ moved: number; notFound: string[] }>;
  /** How many messages the DLQ holds, as SQS counts them (approximately, visible and in flight). */
  depth(): Promise<number>;
}

const PER_RECEIVE = 10;

/**
 * The order DLQ for people on call (SPEC §7): its messages with their receive counts and the
 * reason their last try failed, and a redrive back to the order queue. Standard queues: the FIFO
 * queue's DLQ keeps message groups that a redrive would have to rebuild.
 */
export function createOrderDlq(deps: {
  sqs: SQSClient;
  dlqUrl: string;
  queueUrl: string;
  notes: OrderFailureNotes;
}): OrderDlq {
  const { sqs, dlqUrl } = deps;

  /** Receives what the DLQ holds, at most `max`, each hidden for `hideSeconds` (until released). */
  async function take(max: number, hideSeconds: number): Promise<Message[]> {
    const taken = new Map<string, Message>();
    // A receive samples some of the queue's servers: a few empty answers in a row mean it is drained.
    for (let empty = 0; taken.size < max && empty < 2; ) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(PER_RECEIVE, max - taken.size),
          VisibilityTimeout: hideSeconds,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }),
      );
      const fresh = Messages.filter((m) => !taken.has(m.MessageId!));
      empty = fresh.length === 0 ? empty + 1 : 0;
      for (const m of fresh) taken.set(m.MessageId!, m);
    }
    return [...taken.values()];
  }

  async function release(messages: readonly Message[]) {
    for (let i = 0; i < messages.length; i += PER_RECEIVE) {
      const chunk = messages.slice(i, i + PER_RECEIVE);
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: dlqUrl,
          Entries: chunk.map((m, n) => ({
            Id: String(n),
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }

  return {
    async depth() {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: dlqUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    async list(max = 100) {
      const messages = await take(max, 30);
      await release(messages);
      const notes = await deps.notes.get(messages.map((m) => m.MessageId!));
      return messages
        .map((m) => ({
          messageId: m.MessageId!,
          body: m.Body ?? "",
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
          sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
          failure: notes.get(m.MessageId!),
        }))
        .sort((a, b) => a.sentAt.localeCompare(b.sentAt));
    },

    async redrive(messageIds) {
      const wanted = messageIds ? new Set(messageIds) : undefined;
      const taken = await take(wanted ? 1_000 : 10_000, 60);
      const moving = wanted ? taken.filter((m) => wanted.has(m.MessageId!)) : taken;
      await release(taken.filter((m) => !moving.includes(m)));
      let moved = 0;
      for (let i = 0; i < moving.length; i += PER_RECEIVE) {
        const chunk = moving.slice(i, i + PER_RECEIVE);
        const sent = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: deps.queueUrl,
            Entries: chunk.map((m, n) => ({
              Id: String(n),
              MessageBody: m.Body ?? "",
              MessageAttributes: m.MessageAttributes,
            })),
          }),
        );
        const ok = chunk.filter((_, n) => sent.Successful?.some((s) => s.Id === String(n)));
        // What the order queue refused stays in the DLQ, visible again for the next try.
        await release(chunk.filter((m) => !ok.includes(m)));
        if (ok.length === 0) continue;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: dlqUrl,
            Entries: ok.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        await deps.notes.remove(ok.map((m) => m.MessageId!));
        moved += ok.length;
      }
      const found = new Set(moving.map((m) => m.MessageId!));
      return { moved, notFound: [...(wanted ?? [])].filter((id) => !found.has(id)) };
    },
  };
}
