import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { installOnce, run } from "../install";
import { cacheDir } from "../paths";
import { requireCommand } from "../prerequisites";
import { freePort, type RunningService, startProcess } from "../process";

/** 3.9.x: kafkajs is unmaintained, and Kafka 4 dropped the protocol versions it speaks. */
export const KAFKA_VERSION = "3.9.1";

/** Copies the broker's jars from Maven Central into the cache (once), from packages/local/kafka/pom.xml. */
export async function ensureKafka(): Promise<string> {
  requireCommand("java");
  requireCommand("mvn");
  const home = join(cacheDir(), `kafka-${KAFKA_VERSION}`);
  const pom = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "kafka", "pom.xml");
  await installOnce(home, `Apache Kafka ${KAFKA_VERSION} (Maven Central jars)`, async () => {
    await run("mvn", [
      "-q",
      "-B",
      "-f",
      pom,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${join(home, "libs")}`,
    ]);
    writeFileSync(join(home, "log4j.properties"), LOG4J);
  });
  return home;
}

const LOG4J = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;

export interface KafkaOptions {
  readonly port: number;
  /** The KRaft controller's port; any free one when not given. */
  readonly controllerPort?: number;
  /** Where the log segments live; formatted on first use and kept across restarts. */
  readonly dataDir: string;
  readonly logDir: string;
}

/** Starts a single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM). */
export async function startKafka(options: KafkaOptions): Promise<RunningService & { brokers: string[] }> {
  const home = await ensureKafka();
  const classpath = `${join(home, "libs")}/*`;
  const controllerPort = options.controllerPort ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const config = join(options.dataDir, "server.properties");
  writeFileSync(
    config,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${options.port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${options.port}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${join(options.dataDir, "logs")}`,
      "num.partitions=3",
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "",
    ].join("\n"),
  );
  const jvm = [
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    `-Dlog4j.configuration=file:${join(home, "log4j.properties")}`,
  ];
  if (!existsSync(join(options.dataDir, "logs", "meta.properties"))) {
    // A cluster id is a base64url UUID; Kafka's own never start with "-" (its argument parser reads
    // one as a flag), so neither do ours.
    let clusterId = randomBytes(16).toString("base64url");
    while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
    await run("java", [
      ...jvm,
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId,
      "-c",
      config,
    ]);
  }
  const brokers = [`127.0.0.1:${options.port}`];
  const admin = new Kafka({
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  const service = await startProcess({
    name: "Kafka",
    command: "java",
    args: [...jvm, "-cp", classpath, "kafka.Kafka", config],
    logFile: join(options.logDir, "kafka.log"),
    timeoutMs: 90_000,
    healthy: async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      await admin.disconnect();
      return cluster.brokers.length > 0;
    },
  });
  return { ...service, brokers };
}
