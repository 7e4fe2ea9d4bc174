/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Composes the stacks only. Every resource's name, keys and settings come from
 * packages/topology, which the offline stack (packages/local) reads too.
 */
export default $config({
  app(input) {
    return {
      name: "payments",
      home: "aws",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
      providers: { aws: { region: "us-east-1" } },
    };
  },
  async run() {
    // Before any function is created: every one gets active tracing (X-Ray).
    (await import("./stacks/tracing")).traceEveryFunction();
    const storage = await import("./stacks/storage");
    const secrets = await import("./stacks/secrets");
    const queues = await import("./stacks/queues");
    const bus = await import("./stacks/bus");
    const config = await import("./stacks/config");
    const processing = await import("./stacks/processing");
    const api = await import("./stacks/api");
    const tasks = await import("./stacks/payment-tasks");
    const projector = await import("./stacks/projector");
    const outbox = await import("./stacks/outbox");
    const orderStatus = await import("./stacks/order-status");
    const operationsConsole = await import("./stacks/console");
    const reconciler = await import("./stacks/reconciler");
    const alarms = await import("./stacks/alarms");
    const dashboard = await import("./stacks/dashboard");
    return {
      eventStore: storage.eventStore.name,
      readModels: storage.readModels.name,
      orderQueue: queues.orderQueue.url,
      orderQueueFifo: queues.orderQueueFifo.url,
      orderDlq: queues.orderDlq.url,
      downstreamQueue: queues.downstreamQueue.url,
      bus: bus.bus.name,
      secrets: Object.keys(secrets.secrets).join(","),
      kafkaTopic: config.kafka.properties.topic,
      processPayment: processing.subscribers.length,
      api: api.api.url,
      idempotencyKeys: storage.idempotencyKeys.name,
      collectTask: tasks.paymentTasks.collect.arn,
      refundTask: tasks.paymentTasks.refund.arn,
      projector: projector.projector.nodes.function.name,
      transactionLog: storage.transactionLog.name,
      outboxDeliveries: storage.outboxDeliveries.name,
      relay: outbox.relay.nodes.function.name,
      sweeper: outbox.sweeper.nodes.job.name,
      cleanup: outbox.cleanup.nodes.job.name,
      orderStatusQueue: queues.orderStatusQueue.url,
      orderStatus: orderStatus.orderStatus.nodes.function.name,
      console: $interpolate`${api.api.url}/console`,
      operationsConsole: operationsConsole.operationsConsole.name,
      reconciler: reconciler.reconciler.nodes.job.name,
      alarms: alarms.alarmTopic.arn,
      dashboard: dashboard.dashboard.dashboardName,
    };
  },
});
