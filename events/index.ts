export * from "./envelope";
export * from "./payment-events";
