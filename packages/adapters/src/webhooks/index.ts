export * from "./signatures";
