/** The cold-start bench's baseline: a handler that imports only @aws-sdk/client-dynamodb. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({});
export const handler = async () => client.config.region();
