export * from "./paths";
export * from "./prerequisites";
export * from "./process";
export * from "./resources/dynamodb-tables";
export * from "./services/dynamodb-local";
