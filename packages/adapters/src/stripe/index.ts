export * from "./stripe-amounts";
export * from "./stripe-gateway";
export * from "./stripe-lookup";
