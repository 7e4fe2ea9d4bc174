/**
 * The Stripe proxy in a process of its own (`tsx stripe-proxy-process.ts <stripe-mock URL>`), so that
 * the processor's CPU profile holds the handler and its clients, not the proxy. Prints its URL.
 */
import { startStripeProxy } from "@payments/local";

const proxy = await startStripeProxy({ stripeMockUrl: process.argv[2]! });
console.log(proxy.url);
process.on("SIGTERM", () => proxy.stop().then(() => process.exit(0)));
