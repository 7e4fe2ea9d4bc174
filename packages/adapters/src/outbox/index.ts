export * from "./eventbridge";
export * from "./kafka";
export * from "./publisher";
