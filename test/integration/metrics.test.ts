import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import {
  bucketKey,
  createDynamoEventStore,
  createReadModelStore,
  metricShardOf,
  type ReadModelStore,
} from "@payments/adapters/dynamodb";
import { foldPaymentView, type RecordedEvent } from "@payments/core";
import type { PaymentEvent } from "@payments/events";
import { createProjector, createProjectorHandler } from "@payments/functions/projector/project";
import { replayProjections } from "@payments/functions/projector/replay";
import { ensureTable } from "@payments/local";
import { eventStoreTable, readModelTable, transactionLogTable } from "@payments/topology";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent, streamRecord } from "../helpers/fixtures";
import { silenceConsole } from "../helpers/output";
import { propertyRuns } from "../helpers/property";
import { stackClients } from "../helpers/stack";

/**
 * The metrics read model of the console's overview (issue 22), projected on DynamoDB Local into
 * tables of this file's own, against a reference model written here from the words:
 * - a payment counts once, under its current outcome, in the minute of the event that gave it that
 *   outcome (a refund leaves it captured);
 * - captured and refunded volume per currency, in minor units, in the minute of each event;
 * - a webhook notice counts once per provider, unapplied when it recorded `ProviderNoticeUnapplied`;
 * - each fraud decision in the minute of its screening.
 */
const clients = stackClients();
const logger = new Logger({ serviceName: "test", logLevel: "SILENT" });
let store: ReturnType<typeof createDynamoEventStore>;
let readModels: ReadModelStore;
let tables: { events: string; readModels: string; transactionLog: string };
let restoreConsole: () => void;

beforeAll(async () => {
  restoreConsole = silenceConsole();
  const suffix = randomUUID().slice(0, 8);
  tables = { events: `ev-m-${suffix}`, readModels: `rm-m-${suffix}`, transactionLog: `tl-m-${suffix}` };
  await ensureTable(clients.dynamodb, eventStoreTable, tables.events);
  await ensureTable(clients.dynamodb, readModelTable, tables.readModels);
  await ensureTable(clients.dynamodb, transactionLogTable, tables.transactionLog);
  store = createDynamoEventStore({ client: clients.dynamodb, tableName: tables.events });
  readModels = createReadModelStore({
    client: clients.dynamodb,
    tableName: tables.readModels,
    transactionLogTableName: tables.transactionLog,
  });
});
afterAll(() => {
  restoreConsole();
  for (const client of Object.values(clients)) client.destroy();
});

type Figures = Record<string, Record<string, number>>;
type Path = "captured" | "authorized" | "failed" | "canceled" | "refunded" | "underpaid" | "paid_late";
interface Story {
  currency: string;
  amount: number;
  decision: "approve" | "review" | "reject";
  path: Path;
  /** Minutes between one append and the next. */
  gaps: number[];
  captureByWebhook: boolean;
  unappliedNotices: Array<"stripe" | "payos">;
}
/** One append: its events, when, and where from. */
interface Step {
  at: Date;
  events: PaymentEvent[];
  source: string;
  causationId: string;
}

// Every event in the last day, none in the future.
const base = new Date(Math.floor((Date.now() - 20 * 3_600_000) / 60_000) * 60_000);
const minute = (at: Date) => at.toISOString().slice(0, 16);

/** A payment's appends, as the processor, the webhooks and the console would make them. */
function stepsOf(story: Story, start: Date): Step[] {
  const provider = story.path === "underpaid" || story.path === "paid_late" ? "payos" : "stripe";
  const { amount, currency } = story;
  const steps: Step[] = [];
  let at = start;
  let gap = 0;
  const append = (events: PaymentEvent[], source = "queue", causationId = `msg-${ulid()}`) => {
    steps.push({ at, events, source, causationId });
    at = new Date(at.getTime() + (story.gaps[gap++ % story.gaps.length] ?? 0) * 60_000);
  };
  const captured = (amountCaptured: number, totalCaptured: number) =>
    sampleEvent("PaymentCaptured", { amount: amountCaptured, totalCaptured });
  const paid = story.captureByWebhook ? `webhook:${provider}` : "queue";
  append([
    sampleEvent("PaymentInitiated", { amount, currency, provider, captureMethod: "manual" }),
    sampleEvent("PaymentScreened", { decision: story.decision }),
    ...(story.decision === "reject" ? [sampleEvent("PaymentRejected")] : []),
  ]);
  if (story.decision !== "reject") {
    append([sampleEvent("PaymentIntentCreated")]);
    const half = Math.floor(amount / 2);
    switch (story.path) {
      case "failed":
        append([sampleEvent("PaymentFailed")]);
        break;
      case "authorized":
        append([sampleEvent("PaymentAuthorized", { amountAuthorized: amount })]);
        break;
      case "canceled":
        append([sampleEvent("PaymentAuthorized", { amountAuthorized: amount })]);
        append([sampleEvent("PaymentCanceled", { reason: "customer" })]);
        break;
      case "captured":
        append(
          [sampleEvent("PaymentAuthorized", { amountAuthorized: amount }), captured(amount, amount)],
          paid,
        );
        break;
      case "refunded":
        append(
          [sampleEvent("PaymentAuthorized", { amountAuthorized: amount }), captured(amount, amount)],
          paid,
        );
        append([sampleEvent("PaymentRefunded", { refundId: "rf_1", amount: half, totalRefunded: half })]);
        append([sampleEvent("PaymentRefunded", { refundId: "rf_2", amount: 1, totalRefunded: half + 1 })]);
        break;
      case "underpaid":
        append([captured(half, half)], paid);
        break;
      case "paid_late":
        append([captured(half, half)], paid);
        append([captured(amount - half, amount)], paid);
        break;
    }
  }
  for (const [i, p] of story.unappliedNotices.entries())
    append(
      [
        sampleEvent("ProviderNoticeUnapplied", {
          provider: p,
          noticeId: `n${i}`,
          reason: "paid_after_end: the payment had ended",
        }),
      ],
      `webhook:${p}`,
      `${p}:n${i}-${ulid()}`,
    );
  return steps;
}

/** The reference model: a story's figures, from its appends, by the rules. */
function referenceFigures(story: Story, steps: Step[]): Figures {
  const figures: Figures = {};
  const add = (at: string, figure: string, n: number) => {
    figures[at] = { ...figures[at], [figure]: (figures[at]?.[figure] ?? 0) + n };
  };
  let outcome: { name: string; at: string } | undefined;
  const become = (name: string, at: string) => {
    if (outcome?.name !== name) outcome = { name, at };
  };
  for (const step of steps) {
    const at = minute(step.at);
    if (step.source.startsWith("webhook:"))
      add(
        at,
        `notice.${step.source.slice(8)}.${step.events.some((e) => e.type === "ProviderNoticeUnapplied") ? "unapplied" : "applied"}`,
        1,
      );
    for (const event of step.events) {
      if (event.type === "PaymentScreened") add(at, `fraud.${event.data.decision}`, 1);
      if (event.type === "PaymentRejected") become("rejected", at);
      if (event.type === "PaymentFailed") become("failed", at);
      if (event.type === "PaymentAuthorized") become("authorized", at);
      if (event.type === "PaymentCanceled") become("canceled", at);
      if (event.type === "PaymentCaptured") {
        add(at, `captured.${story.currency}`, event.data.amount);
        become(event.data.totalCaptured < story.amount ? "underpaid" : "captured", at);
      }
      if (event.type === "PaymentRefunded") add(at, `refunded.${story.currency}`, event.data.amount);
    }
  }
  if (outcome) add(outcome.at, `outcome.${outcome.name}`, 1);
  return figures;
}

const storyArbitrary: fc.Arbitrary<Story> = fc.record({
  currency: fc.constantFrom("usd", "eur", "jpy"),
  amount: fc.integer({ min: 10, max: 5_000_000 }),
  decision: fc.constantFrom("approve", "approve", "review", "reject"),
  path: fc.constantFrom<Path>(
    "captured",
    "authorized",
    "failed",
    "canceled",
    "refunded",
    "underpaid",
    "paid_late",
  ),
  gaps: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
  captureByWebhook: fc.boolean(),
  unappliedNotices: fc.array(fc.constantFrom("stripe" as const, "payos" as const), { maxLength: 2 }),
});

async function record(steps: Step[]): Promise<RecordedEvent[]> {
  const paymentId = `pay_${ulid()}`;
  const recorded: RecordedEvent[] = [];
  for (const step of steps)
    recorded.push(
      ...(await store.append({
        paymentId,
        expectedVersion: recorded.length,
        events: step.events,
        metadata: { correlationId: paymentId, causationId: step.causationId, source: step.source },
        now: step.at,
        newId: ulid,
      })),
    );
  return recorded;
}

const addInto = (into: Figures, more: Figures) => {
  for (const [at, figures] of Object.entries(more))
    for (const [figure, n] of Object.entries(figures))
      into[at] = { ...into[at], [figure]: (into[at]?.[figure] ?? 0) + n };
  return into;
};
const toHours = (figures: Figures) => {
  const hours: Figures = {};
  for (const [at, f] of Object.entries(figures)) addInto(hours, { [at.slice(0, 13)]: f });
  return hours;
};
/** The stored figures at a resolution, as `at → figure → n`, zeros left out. */
async function storedFigures(resolution: "minute" | "hour"): Promise<Figures> {
  const intervals = await readModels.metrics({
    from: new Date(base.getTime() - 86_400_000),
    until: new Date(Date.now() + 2 * 86_400_000),
    resolution,
  });
  return Object.fromEntries(
    intervals
      .map(
        ({ at, figures }) =>
          [at, Object.fromEntries(Object.entries(figures).filter(([, n]) => n !== 0))] as const,
      )
      .filter(([, f]) => Object.keys(f).length > 0),
  );
}
const withoutZeros = (figures: Figures) =>
  Object.fromEntries(
    Object.entries(figures)
      .map(([at, f]) => [at, Object.fromEntries(Object.entries(f).filter(([, n]) => n !== 0))] as const)
      .filter(([, f]) => Object.keys(f).length > 0),
  );

const deps = () => ({ client: clients.dynamodb, eventsTable: tables.events, store, readModels });

describe("the metrics read model", () => {
  /** Every payment this file has projected, by the reference model. */
  const expected: Figures = {};

  it("adds up to the reference model's figures, whatever the order, duplication and batching of records", async () => {
    // How the batch's shared transactions went: written, or refused and written one by one.
    const shared = { written: 0, refused: 0, payments: 0 };
    const counted: ReadModelStore = {
      ...readModels,
      putViews: async (projections) => {
        const written = await readModels.putViews(projections);
        shared[written ? "written" : "refused"] += 1;
        if (written) shared.payments += projections.length;
        return written;
      },
    };
    const projector = createProjector({ store, readModels: counted });
    const handler = createProjectorHandler({ projector, logger });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(storyArbitrary, fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(50), { minLength: 3, maxLength: 30 }),
        fc.integer({ min: 1, max: 12 }),
        async (stories, shuffle, batchSize) => {
          // Several payments, their records mixed in shared batches, as a stream shard delivers them.
          const all: RecordedEvent[][] = [];
          for (const [story, startMinute] of stories) {
            const steps = stepsOf(story, new Date(base.getTime() + startMinute * 60_000));
            all.push(await record(steps));
            addInto(expected, referenceFigures(story, steps));
          }
          const events = all.flat();
          const deliveries = [...events, ...shuffle.map((i) => events[i % events.length]!)]
            .map((event, i) => ({ event, key: shuffle[i % shuffle.length]! * 31 + i }))
            .sort((a, b) => a.key - b.key)
            .map(({ event }) => event);
          // Two batches at a time, as two invocations that overlap (a retry beside a late one).
          const batches: DynamoDBRecord[][] = [];
          for (let i = 0; i < deliveries.length; i += batchSize)
            batches.push(deliveries.slice(i, i + batchSize).map((e, j) => streamRecord(e, i + j)));
          for (let i = 0; i < batches.length; i += 2) {
            const results = await Promise.all(batches.slice(i, i + 2).map((Records) => handler({ Records })));
            for (const result of results) expect(result.batchItemFailures).toEqual([]);
          }
          for (const stream of all)
            expect(await readModels.getView(stream[0]!.paymentId)).toEqual(foldPaymentView(stream));
        },
      ),
      propertyRuns(25),
    );
    expect(await storedFigures("minute")).toEqual(withoutZeros(expected));
    expect(await storedFigures("hour")).toEqual(withoutZeros(toHours(expected)));
    // Payments were written together, several to a transaction.
    expect(shared.written).toBeGreaterThan(0);
    expect(shared.payments).toBeGreaterThan(shared.written);
    // An automatic capture's PaymentAuthorized then PaymentCaptured is one captured payment.
    const captured = Object.values(expected).reduce((n, f) => n + (f["outcome.captured"] ?? 0), 0);
    const authorizedOnly = Object.values(expected).reduce((n, f) => n + (f["outcome.authorized"] ?? 0), 0);
    expect(captured + authorizedOnly).toBeGreaterThan(0);
  }, 300_000);

  it("counts each payment once when projectors race on it: the loser of each write reads again", async () => {
    const projector = createProjector({ store, readModels });
    const story: Story = {
      currency: "usd",
      amount: 1_234,
      decision: "review",
      path: "refunded",
      gaps: [1],
      captureByWebhook: true,
      unappliedNotices: ["payos"],
    };
    for (let i = 0; i < 8; i++) {
      const steps = stepsOf(story, new Date(base.getTime() + (100 + i) * 60_000));
      const events = await record(steps);
      addInto(expected, referenceFigures(story, steps));
      await projector.projectPayment(events[0]!.paymentId, events.slice(0, 1));
      // Three invocations with the rest at once, each having read the view at version 1.
      await Promise.all(
        [3, 5, events.length].map((n) => projector.projectPayment(events[0]!.paymentId, events.slice(0, n))),
      );
    }
    expect(await storedFigures("minute")).toEqual(withoutZeros(expected));
  }, 120_000);

  it("is left as it is by a replay, and --verify finds nothing", async () => {
    const before = await storedFigures("minute");
    const rebuilt = await replayProjections(deps(), { only: "metrics", settleMs: 100 });
    expect(rebuilt).toMatchObject({ written: 0, figuresCorrected: 0, corrupt: [] });
    // The views too: they and their tallies are one item, written only where either differs.
    const views = await replayProjections(deps(), { only: "payment-view", settleMs: 100 });
    expect(views).toMatchObject({ written: 0 });
    const all = await replayProjections(deps(), { settleMs: 100 });
    expect(all).toMatchObject({ figuresCorrected: 0, corrupt: [] });
    expect(await storedFigures("minute")).toEqual(before);
    const verified = await replayProjections(deps(), { verify: true, only: "metrics", settleMs: 100 });
    expect(verified).toMatchObject({ differing: [], figures: [] });
  }, 120_000);

  it("counts a payment whose view was written before the metrics once, when it moves or is replayed", async () => {
    const story: Story = {
      currency: "eur",
      amount: 7_000,
      decision: "approve",
      path: "refunded",
      gaps: [3],
      captureByWebhook: true,
      unappliedNotices: [],
    };
    const steps = stepsOf(story, new Date(base.getTime() + 17 * 60_000));
    const events = await record(steps);
    const projector = createProjector({ store, readModels });
    // Written as the projector wrote it before the metrics: the view, no tally, no figures.
    const legacy = (upTo: number) =>
      clients.dynamodb.send(
        new PutItemCommand({
          TableName: tables.readModels,
          Item: marshall(
            {
              pk: `payment#${events[0]!.paymentId}`,
              sk: "view",
              view: foldPaymentView(events.slice(0, upTo)),
              version: upTo,
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
    await legacy(3);
    await projector.projectPayment(events[0]!.paymentId, events.slice(3));
    addInto(expected, referenceFigures(story, steps));
    expect(await storedFigures("minute")).toEqual(withoutZeros(expected));

    // Another, left at its last version: the projector has nothing to do, replay counts it.
    const other = await record(
      stepsOf({ ...story, path: "captured" }, new Date(base.getTime() + 41 * 60_000)),
    );
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tables.readModels,
        Item: marshall(
          {
            pk: `payment#${other[0]!.paymentId}`,
            sk: "view",
            view: foldPaymentView(other),
            version: other.length,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
    const verify = await replayProjections(deps(), { verify: true, only: "metrics", settleMs: 100 });
    expect(verify.differing.map((d) => d.paymentId)).toEqual([other[0]!.paymentId]);
    expect(verify.figures!.length).toBeGreaterThan(0);
    const replayed = await replayProjections(deps(), { only: "metrics", settleMs: 100 });
    expect(replayed).toMatchObject({ written: 1, figuresCorrected: 0 });
    addInto(
      expected,
      referenceFigures(
        { ...story, path: "captured" },
        stepsOf({ ...story, path: "captured" }, new Date(base.getTime() + 41 * 60_000)),
      ),
    );
    expect(await storedFigures("minute")).toEqual(withoutZeros(expected));
    expect(await storedFigures("hour")).toEqual(withoutZeros(toHours(expected)));
  }, 120_000);

  it("finds a figure damaged apart from any payment, and a rebuild corrects it", async () => {
    const [at, figures] = Object.entries(expected)[0]!;
    const figure = Object.keys(figures)[0]!;
    await clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: tables.readModels,
        Key: marshall(bucketKey("minute", at, metricShardOf("pay_x"))),
        UpdateExpression: "ADD #f :n",
        ExpressionAttributeNames: { "#f": figure },
        ExpressionAttributeValues: marshall({ ":n": 5 }),
      }),
    );
    const verify = await replayProjections(deps(), { verify: true, only: "metrics", settleMs: 100 });
    expect(verify.differing).toEqual([]);
    expect(verify.figures).toEqual([
      { at, figure, stored: figures[figure]! + 5, expected: figures[figure]! },
    ]);
    const rebuilt = await replayProjections(deps(), { only: "metrics", settleMs: 100 });
    expect(rebuilt).toMatchObject({ written: 0, figuresCorrected: 1 });
    expect(await storedFigures("minute")).toEqual(withoutZeros(expected));
    expect(await replayProjections(deps(), { verify: true, settleMs: 100 })).toMatchObject({
      differing: [],
      figures: [],
    });
  }, 120_000);
});
