import { describe, expect, it } from "vitest";
import { kafkaTopic, mskIamStatements } from "./index";

/**
 * The relay's IAM permissions on an MSK cluster with IAM auth, against AWS's documented ARN shapes
 * (cluster `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`, topic
 * `…:topic/<name>/<uuid>/<topic>`) and the actions a producer needs.
 */
const cluster =
  "arn:aws:kafka:ap-southeast-1:111122223333:cluster/payments-prod/abcd1234-0123-abcd-5678-1234abcd-1";

describe("the MSK IAM policy", () => {
  it("connects to the cluster and describes and writes only the payments topic", () => {
    expect(mskIamStatements(cluster)).toEqual([
      { actions: ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"], resources: [cluster] },
      {
        actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
        resources: [
          `arn:aws:kafka:ap-southeast-1:111122223333:topic/payments-prod/abcd1234-0123-abcd-5678-1234abcd-1/${kafkaTopic.name}`,
        ],
      },
    ]);
  });

  it("grants nothing that reads, alters or deletes, and nothing on other topics or groups", () => {
    const actions = mskIamStatements(cluster).flatMap((s) => s.actions);
    expect(actions.filter((a) => /Read|Alter|Delete|Create|Group|\*/.test(a))).toEqual([]);
    expect(
      mskIamStatements(cluster)
        .flatMap((s) => s.resources)
        .some((r) => r.includes("*")),
    ).toBe(false);
  });

  it("keeps the partition of a non-default one, and refuses what is not a cluster ARN", () => {
    const china = "arn:aws-cn:kafka:cn-north-1:111122223333:cluster/p/u-1";
    expect(mskIamStatements(china)[1]!.resources).toEqual([
      `arn:aws-cn:kafka:cn-north-1:111122223333:topic/p/u-1/${kafkaTopic.name}`,
    ]);
    expect(() => mskIamStatements("arn:aws:kafka:eu-west-1:111122223333:topic/p/u/t")).toThrow(
      /KAFKA_CLUSTER_ARN/,
    );
  });
});
