export * from "./payos-client";
