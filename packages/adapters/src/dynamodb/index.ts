export * from "./customer-activity";
export * from "./entities";
export * from "./event-store";
export * from "./metrics";
export * from "./order-failure-notes";
export * from "./outbox-deliveries";
export * from "./read-models";
