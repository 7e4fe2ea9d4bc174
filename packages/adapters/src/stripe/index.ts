export * from "./stripe-amounts";
export * from "./stripe-customers";
export * from "./stripe-gateway";
export * from "./stripe-lookup";
