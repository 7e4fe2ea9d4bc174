import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";

/**
 * Sends one transaction, and sends it again, after a jittered pause that grows with each attempt,
 * while DynamoDB cancels it only because it met another transaction: `TransactionConflict` on items
 * that `retryable` accepts (by position), and no other refusal. Anything else, or a conflict on the
 * last of `attempts`, is thrown as it came, for the caller to read its cancellation reasons.
 */
export async function transactRetryingConflicts(
  doc: DynamoDBDocumentClient,
  items: NonNullable<TransactWriteCommandInput["TransactItems"]>,
  { attempts, retryable = () => true }: { attempts: number; retryable?: (index: number) => boolean },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException) || attempt >= attempts) throw error;
      const reasons = error.CancellationReasons ?? [];
      const conflicts = reasons.filter((r) => r.Code === "TransactionConflict").length;
      const onlyRetryableConflicts = reasons.every(
        (r, i) => !r.Code || r.Code === "None" || (r.Code === "TransactionConflict" && retryable(i)),
      );
      if (conflicts === 0 || !onlyRetryableConflicts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

/**
 * Whether a guarded write lost to its own condition: a single write's, or, in a transaction, the
 * first item's (the guarded one; the items after it are its companions). Anything else is an error.
 */
export const refusedByCondition = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed");
