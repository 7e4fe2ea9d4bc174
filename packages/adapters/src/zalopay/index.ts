export * from "./zalopay-client";
