import { describe, expect, it } from "vitest";
import { kafkaClientConfig, kafkaSasl } from "./kafka";

describe("the Kafka connection settings", () => {
  it("reads each SASL mechanism, and names what is missing or unknown", () => {
    expect(kafkaSasl(undefined, {})).toBeUndefined();
    expect(kafkaSasl("none", { username: "u", password: "p" })).toBeUndefined();
    expect(kafkaSasl("SCRAM-SHA-512", { username: "u", password: "p" })).toEqual({
      mechanism: "scram-sha-512",
      username: "u",
      password: "p",
    });
    expect(kafkaSasl("aws-iam", { region: "eu-west-1" })).toEqual({
      mechanism: "aws-iam",
      region: "eu-west-1",
    });
    expect(() => kafkaSasl("scram-sha-256", { username: "u" })).toThrow(/KafkaUsername and KafkaPassword/);
    expect(() => kafkaSasl("aws-iam", {})).toThrow(/AWS_REGION/);
    expect(() => kafkaSasl("gssapi", {})).toThrow(/use none, plain, scram-sha-256, scram-sha-512 or aws-iam/);
  });

  it("uses TLS for SSL and for MSK IAM, whose token comes over OAUTHBEARER", async () => {
    expect(kafkaClientConfig({ brokers: ["b:9092"] })).toMatchObject({ ssl: undefined, sasl: undefined });
    expect(kafkaClientConfig({ brokers: ["b:9094"], ssl: true }).ssl).toBe(true);
    const scram = kafkaClientConfig({
      brokers: ["b:9096"],
      ssl: true,
      sasl: { mechanism: "scram-sha-512", username: "u", password: "p" },
    });
    expect(scram.sasl).toEqual({ mechanism: "scram-sha-512", username: "u", password: "p" });
    const iam = kafkaClientConfig({
      brokers: ["b:9098"],
      sasl: { mechanism: "aws-iam", region: "us-east-1" },
    });
    expect(iam.ssl).toBe(true);
    expect(iam.sasl).toMatchObject({ mechanism: "oauthbearer", oauthBearerProvider: expect.any(Function) });
  });
});
