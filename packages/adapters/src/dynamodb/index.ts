export * from "./customer-activity";
export * from "./entities";
export * from "./event-store";
export * from "./read-models";
export * from "./outbox-deliveries";
