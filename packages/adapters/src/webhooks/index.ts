export * from "./bounded-json";
export * from "./signatures";
