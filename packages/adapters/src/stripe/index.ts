export * from "./stripe-amounts";
export * from "./stripe-gateway";
