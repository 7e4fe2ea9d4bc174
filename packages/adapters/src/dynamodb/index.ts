export * from "./entities";
export * from "./event-store";
