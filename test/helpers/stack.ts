import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack, localClients } from "@payments/local";
import { inject } from "vitest";

/** The stack the global setup created on the local servers. */
export function testStack(): LocalStack {
  return inject("stack");
}

/** SDK clients for the test stack; destroy them in afterAll. */
export function stackClients() {
  const stack = testStack();
  return {
    ...localClients(stack),
    streams: new DynamoDBStreamsClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.dynamoEndpoint,
    }),
  };
}
