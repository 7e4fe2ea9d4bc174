import { defaultFraudThresholds, type FraudInput, scoreFraud } from "@payments/core";

/** Time per scoreFraud call over varied inputs, after a warm-up: the SPEC §9 target is < 0.1 ms. */
export function runFraudBench(iterations = 1_000_000): { nsPerPayment: number; iterations: number } {
  const inputs: FraudInput[] = Array.from({ length: 1024 }, (_, i) => ({
    amount: 100 + ((i * 7919) % 500_000),
    currency: ["usd", "eur", "jpy", "vnd", "kwd"][i % 5]!,
    customerId: i % 7 === 0 ? undefined : `cus-${i}`,
    billingAddress:
      i % 3 === 0
        ? undefined
        : { street: "1 Main St", city: "Springfield", state: "IL", zip: i % 11 === 0 ? "" : "62701" },
    activity: {
      paymentsLast10Minutes: i % 13,
      paymentsLastHour: i % 29,
      declinesLastHour: i % 5,
      declinesLastDay: i % 9,
      lifetimePayments: i % 4,
    },
  }));
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += scoreFraud(inputs[i & 1023]!, defaultFraudThresholds).score;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += scoreFraud(inputs[i & 1023]!, defaultFraudThresholds).score;
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  if (sink < 0) console.log(sink); // keeps the calls from being optimised away
  return { nsPerPayment: ns, iterations };
}
