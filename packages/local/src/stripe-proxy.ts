import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small proxy of ours in front of stripe-mock. stripe-mock validates every request against
 * Stripe's OpenAPI spec but is stateless: a PaymentIntent's status does not follow confirm or
 * capture_method. The proxy forwards every request, then makes the responses the payment flow
 * depends on follow the request (PaymentIntents and refunds), keeps Stripe's idempotency
 * semantics (a replayed answer for a finished key, 409 `idempotency_key_in_use` for one still
 * running), declines Stripe's test payment methods, injects outages and lost responses, and keeps a
 * ledger of what moved money per order and per payment, whatever the idempotency key.
 */

export interface ProxyCall {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey?: string;
  /** Answered from the idempotency cache: Stripe did nothing new. */
  readonly replayed: boolean;
  /** The fault injected instead of an answer, if any. */
  readonly fault?: FaultResponse;
  readonly status: number;
  readonly orderId?: string;
  readonly paymentId?: string;
  /** The form parameters that reached the proxy, as sent (amounts in Stripe's units). */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * - a status: answered instead of Stripe, nothing done (402: a card error, Stripe's decline);
 * - "timeout": held for `delayMs`, then the connection dropped, nothing done;
 * - "lost": Stripe does it, but the answer never arrives: it is held for `delayMs` (past the
 *   caller's timeout), then the connection is dropped, as a Lambda that timed out or crashed sees it.
 *   (A connection closed at once is not enough: stripe-node sends such a request once more, with the
 *   same idempotency key, and gets the cached answer.)
 * - "slow": Stripe does it after `delayMs`, so that a second request can arrive meanwhile.
 */
export type FaultResponse = 402 | 500 | 502 | 503 | 429 | "timeout" | "lost" | "slow";

/** What Stripe did for one order or payment, counted as it happened, whatever the idempotency key. */
export interface MoneyCount {
  /** PaymentIntents created. */
  intents: number;
  /** Holds placed (confirmed with manual capture). */
  authorizations: number;
  /** Money taken: a confirm with automatic capture, or a capture. */
  charges: number;
  refunds: number;
}

export interface FaultRule {
  /** Matches requests whose PaymentIntent carries this metadata.orderId. */
  readonly orderId?: string;
  /** Matches requests for this payment method (the request's, else its PaymentIntent's). */
  readonly paymentMethod?: string;
  /** Matches requests whose path contains this. */
  readonly pathIncludes?: string;
  readonly method?: string;
  readonly respond: FaultResponse;
  /** How many matching requests get the fault; all of them when not given. */
  readonly times?: number;
  /** For "timeout": how long to hold the request before dropping it. */
  readonly delayMs?: number;
}

export interface StripeProxy {
  readonly url: string;
  calls(): readonly ProxyCall[];
  /** Non-replayed, successful calls per idempotency key: what Stripe actually did. */
  effectiveCallsByKey(): Map<string, number>;
  /** What moved money, per order id and per payment id, whatever keys the requests carried. */
  ledger(): {
    readonly byOrder: ReadonlyMap<string, MoneyCount>;
    readonly byPayment: ReadonlyMap<string, MoneyCount>;
  };
  /**
   * A refund made outside the service, as in Stripe's dashboard (no metadata of ours). With
   * `deliver`, its `refund.created` and `charge.refunded` are sent, signed, to the webhook; the
   * events are returned either way, shaped as the pinned API version sends them.
   */
  dashboardRefund(input: {
    payment_intent: string;
    amount?: number;
    deliver?: boolean;
  }): Promise<DashboardRefund>;
  injectFaults(rules: readonly FaultRule[]): void;
  clearFaults(): void;
  /** Forgets every idempotency key, as Stripe does after 24 hours. */
  forgetIdempotencyKeys(): void;
  stop(): Promise<void>;
}

export interface DashboardRefund {
  readonly status: number;
  readonly refund?: Record<string, unknown>;
  readonly error?: unknown;
  /** The events Stripe would send: `refund.created`, then `charge.refunded` without a refunds list. */
  readonly events: readonly Record<string, unknown>[];
  /** The webhook's HTTP status for each event delivered. */
  readonly delivered: readonly number[];
}

/**
 * The API version of the events the proxy sends: the one the bundled stripe-node pins (its
 * `ApiVersion`). Since 2022-11-15 a charge carries no `refunds` list; the proxy's charge objects,
 * taken from stripe-mock's fixtures, lose theirs for that reason.
 */
export const STRIPE_EVENT_API_VERSION = "2026-10-28.endive";

/** Stripe's `Stripe-Signature` header for a payload: `t=<unix>,v1=<HMAC-SHA256(secret, "t.payload")>`. */
export function stripeSignatureHeader(
  payload: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
) {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

/** Stripe's test payment methods that decline, and how (https://docs.stripe.com/testing). */
const DECLINES: Record<string, { code: string; decline_code: string; message: string }> = {
  pm_card_chargeDeclined: {
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
  },
  pm_card_visa_chargeDeclined: {
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    code: "card_declined",
    decline_code: "insufficient_funds",
    message: "Your card has insufficient funds.",
  },
  pm_card_chargeDeclinedExpiredCard: {
    code: "expired_card",
    decline_code: "expired_card",
    message: "Your card has expired.",
  },
  pm_card_chargeDeclinedFraudulent: {
    code: "card_declined",
    decline_code: "fraudulent",
    message: "Your card was declined.",
  },
};
/**
 * Not Stripe's: a payment method that `npm run dev` makes its proxy answer with 503 on every request
 * (a fault rule, {@link GATEWAY_DOWN_FAULT}), as if the gateway were down for it. An order paid with
 * it fails transiently on every receive and reaches the DLQ: the dev stack has no other way to inject.
 */
export const GATEWAY_DOWN_PAYMENT_METHOD = "pm_dev_gatewayDown";
export const GATEWAY_DOWN_FAULT: FaultRule = { paymentMethod: GATEWAY_DOWN_PAYMENT_METHOD, respond: 503 };

const REQUIRES_ACTION = new Set(["pm_card_authenticationRequired", "pm_card_threeDSecure2Required"]);

interface Intent {
  id: string;
  amount: number;
  currency: string;
  capture_method: "automatic" | "manual" | "automatic_async";
  metadata: Record<string, string>;
  payment_method: string | null;
  customer?: string | null;
  /** Confirmed off session (the customer is not there to authenticate). */
  off_session?: boolean;
  status: string;
  amount_received: number;
  amount_capturable: number;
  amount_refunded: number;
  latest_charge: string | null;
  canceled_at: number | null;
  created: number;
}

type Reply = { status: number; body: unknown };

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
const stripeError = (
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
): Reply => ({
  status,
  body: { error: { type, message, ...extra } },
});

/** Reads an application/x-www-form-urlencoded Stripe body into a flat map (`metadata[orderId]` kept as is). */
/**
 * One page of a Stripe list, as Stripe pages it: newest first, `created[gte|gt|lte|lt]` filters,
 * `limit` (default 10, at most 100) and `starting_after`, with `has_more`.
 */
function listPage(items: ReadonlyArray<{ id?: unknown; created?: unknown }>, url: URL, path: string) {
  const q = url.searchParams;
  const bound = (key: string) => (q.has(`created[${key}]`) ? Number(q.get(`created[${key}]`)) : undefined);
  const [gte, gt, lte, lt] = ["gte", "gt", "lte", "lt"].map(bound);
  const created = (item: { created?: unknown }) => Number(item.created ?? 0);
  let newestFirst = items
    .filter(
      (item) =>
        (gte === undefined || created(item) >= gte) &&
        (gt === undefined || created(item) > gt) &&
        (lte === undefined || created(item) <= lte) &&
        (lt === undefined || created(item) < lt),
    )
    .reverse();
  const after = q.get("starting_after");
  if (after) newestFirst = newestFirst.slice(newestFirst.findIndex((item) => item.id === after) + 1);
  const limit = Math.min(Math.max(Number(q.get("limit") ?? 10) || 10, 1), 100);
  return {
    object: "list",
    data: newestFirst.slice(0, limit),
    has_more: newestFirst.length > limit,
    url: path,
  };
}

function parseForm(body: string): Map<string, string> {
  return new Map(new URLSearchParams(body).entries());
}
const metadataOf = (form: Map<string, string>) =>
  Object.fromEntries(
    [...form.entries()]
      .filter(([k]) => k.startsWith("metadata["))
      .map(([k, v]) => [k.slice("metadata[".length, -1), v]),
  );
const wantsExpandedCharge = (form: Map<string, string>, query: URLSearchParams) =>
  [...form.entries(), ...query.entries()].some(([k, v]) => k.startsWith("expand") && v === "latest_charge");

export async function startStripeProxy(options: {
  stripeMockUrl: string;
  port?: number;
  /** Fault rules from the start (as {@link StripeProxy.injectFaults} adds them). */
  faults?: readonly FaultRule[];
  /** Where dashboard refunds' events are delivered, and the endpoint secret they are signed with. */
  webhook?: { readonly url: string; readonly secret: string };
}): Promise<StripeProxy> {
  const intents = new Map<string, Intent>();
  /** Customers and the payment methods attached to them (stripe-mock keeps neither). */
  const customers = new Map<string, Record<string, unknown> & { id: string; attached: Set<string> }>();
  /** Every refund made, ours and the dashboard's, for GET /v1/refunds (stripe-mock keeps none). */
  const refunds = new Map<string, Record<string, unknown>>();
  const idempotency = new Map<string, { fingerprint: string; reply: Reply }>();
  const inFlight = new Set<string>();
  const byOrder = new Map<string, MoneyCount>();
  const byPayment = new Map<string, MoneyCount>();
  /** Counts what Stripe just did for an intent, under its order and its payment. */
  const count = (intent: Intent, what: keyof MoneyCount) => {
    for (const [map, id] of [
      [byOrder, intent.metadata.orderId],
      [byPayment, intent.metadata.paymentId],
    ] as const) {
      if (!id) continue;
      const entry = map.get(id) ?? { intents: 0, authorizations: 0, charges: 0, refunds: 0 };
      entry[what] += 1;
      map.set(id, entry);
    }
  };
  const calls: ProxyCall[] = [];
  const armed = (r: FaultRule) => ({ ...r, left: r.times ?? Number.POSITIVE_INFINITY });
  let faults: Array<FaultRule & { left: number }> = (options.faults ?? []).map(armed);

  const view = (intent: Intent, expandCharge: boolean) => ({
    ...intent,
    latest_charge:
      expandCharge && intent.latest_charge
        ? {
            id: intent.latest_charge,
            object: "charge",
            authorization_code: "123456",
            amount: intent.amount,
            status: "succeeded",
          }
        : intent.latest_charge,
  });

  async function forward(req: IncomingMessage, path: string, body: string): Promise<Reply> {
    const response = await fetch(`${options.stripeMockUrl}${path}`, {
      method: req.method,
      headers: {
        authorization: req.headers.authorization ?? "",
        "content-type": req.headers["content-type"] ?? "application/x-www-form-urlencoded",
        "stripe-version": String(req.headers["stripe-version"] ?? ""),
      },
      body: req.method === "GET" || req.method === "DELETE" ? undefined : body,
    });
    return { status: response.status, body: await response.json() };
  }

  /** Makes stripe-mock's canned answer follow the request for the endpoints the flow depends on. */
  function stateful(method: string, url: URL, form: Map<string, string>, mock: Reply): Reply {
    if (mock.status >= 400) return mock;
    const expand = wantsExpandedCharge(form, url.searchParams);
    const parts = url.pathname.split("/").filter(Boolean); // v1, payment_intents, id, action
    if (parts[1] === "customers") {
      if (method === "POST" && parts.length === 2) {
        const customer = {
          ...(mock.body as Record<string, unknown>),
          id: newId("cus"),
          metadata: metadataOf(form),
          invoice_settings: { default_payment_method: null as string | null },
          attached: new Set<string>(),
        };
        customers.set(customer.id, customer);
        return { status: 200, body: customerView(customer) };
      }
      const customer = parts[2] ? customers.get(parts[2]) : undefined;
      if (!customer)
        return stripeError(404, "invalid_request_error", `No such customer: '${parts[2]}'`, {
          code: "resource_missing",
        });
      if (method === "GET" && parts.length === 3) return { status: 200, body: customerView(customer) };
      if (method === "POST" && parts.length === 3) {
        const pm = form.get("invoice_settings[default_payment_method]");
        if (pm !== undefined) {
          if (pm && !customer.attached.has(pm))
            return stripeError(
              400,
              "invalid_request_error",
              `No such PaymentMethod: '${pm}' on customer ${customer.id}`,
              {
                code: "resource_missing",
              },
            );
          customer.invoice_settings = { default_payment_method: pm || null };
        }
        return { status: 200, body: customerView(customer) };
      }
    }
    if (parts[1] === "payment_methods" && parts[3] === "attach" && method === "POST") {
      const customer = customers.get(form.get("customer") ?? "");
      if (!customer)
        return stripeError(404, "invalid_request_error", `No such customer: '${form.get("customer")}'`, {
          code: "resource_missing",
        });
      customer.attached.add(parts[2]!);
      return {
        status: 200,
        body: { ...(mock.body as Record<string, unknown>), id: parts[2], customer: customer.id },
      };
    }
    if (parts[1] === "payment_intents" && method === "POST" && parts.length === 2) {
      const customerId = form.get("customer");
      if (customerId) {
        const customer = customers.get(customerId);
        const pm = form.get("payment_method");
        if (!customer)
          return stripeError(404, "invalid_request_error", `No such customer: '${customerId}'`, {
            code: "resource_missing",
          });
        if (pm && !customer.attached.has(pm))
          return stripeError(
            400,
            "invalid_request_error",
            `The provided PaymentMethod ${pm} is not attached to customer ${customerId}`,
            { code: "payment_method_not_attached" },
          );
      }
      const intent: Intent = {
        ...(mock.body as Intent),
        id: newId("pi"),
        amount: Number(form.get("amount")),
        currency: form.get("currency") ?? "usd",
        capture_method: (form.get("capture_method") as Intent["capture_method"]) ?? "automatic",
        metadata: metadataOf(form),
        payment_method: form.get("payment_method") ?? null,
        customer: form.get("customer") ?? null,
        status: form.get("payment_method") ? "requires_confirmation" : "requires_payment_method",
        amount_received: 0,
        amount_capturable: 0,
        amount_refunded: 0,
        latest_charge: null,
        canceled_at: null,
        created: Math.floor(Date.now() / 1000),
      };
      intents.set(intent.id, intent);
      count(intent, "intents");
      if (form.get("confirm") === "true") return confirm(intent, form, expand);
      return { status: 200, body: view(intent, expand) };
    }
    if (parts[1] === "payment_intents" && method === "GET" && parts.length === 2) {
      return { status: 200, body: listPage([...intents.values()], url, "/v1/payment_intents") };
    }
    if (parts[1] === "payment_intents" && parts[2]) {
      const intent = intents.get(parts[2]);
      if (!intent)
        return stripeError(404, "invalid_request_error", `No such payment_intent: '${parts[2]}'`, {
          code: "resource_missing",
        });
      if (method === "GET" && parts.length === 3) return { status: 200, body: view(intent, expand) };
      if (parts[3] === "confirm") return confirm(intent, form, expand);
      if (parts[3] === "capture") {
        if (intent.status !== "requires_capture") return unexpectedState(intent, "capture");
        const amount = form.has("amount_to_capture")
          ? Number(form.get("amount_to_capture"))
          : intent.amount_capturable;
        if (amount > intent.amount_capturable) {
          return stripeError(
            400,
            "invalid_request_error",
            "amount_to_capture is greater than the amount capturable",
            {
              code: "amount_too_large",
            },
          );
        }
        Object.assign(intent, { status: "succeeded", amount_received: amount, amount_capturable: 0 });
        count(intent, "charges");
        return { status: 200, body: view(intent, expand) };
      }
      if (parts[3] === "cancel") {
        if (["succeeded", "canceled", "processing"].includes(intent.status))
          return unexpectedState(intent, "cancel");
        Object.assign(intent, {
          status: "canceled",
          amount_capturable: 0,
          canceled_at: Math.floor(Date.now() / 1000),
        });
        return { status: 200, body: view(intent, expand) };
      }
    }
    if (parts[1] === "refunds" && method === "POST" && parts.length === 2) {
      const intent = intents.get(form.get("payment_intent") ?? "");
      if (!intent)
        return stripeError(404, "invalid_request_error", "No such payment_intent", {
          code: "resource_missing",
        });
      const refundable = intent.amount_received - intent.amount_refunded;
      const amount = form.has("amount") ? Number(form.get("amount")) : refundable;
      if (intent.status !== "succeeded" || amount > refundable || amount <= 0) {
        return stripeError(
          400,
          "invalid_request_error",
          `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
          {
            code: "charge_already_refunded",
          },
        );
      }
      intent.amount_refunded += amount;
      count(intent, "refunds");
      const refund = {
        ...(mock.body as object),
        id: newId("re"),
        amount,
        currency: intent.currency,
        payment_intent: intent.id,
        charge: intent.latest_charge,
        status: "succeeded",
        metadata: metadataOf(form),
        created: Math.floor(Date.now() / 1000),
      };
      refunds.set(refund.id, refund);
      return { status: 200, body: refund };
    }
    if (parts[1] === "refunds" && method === "GET") {
      if (parts[2]) {
        const refund = refunds.get(parts[2]);
        return refund
          ? { status: 200, body: refund }
          : stripeError(404, "invalid_request_error", `No such refund: '${parts[2]}'`, {
              code: "resource_missing",
            });
      }
      const charge = url.searchParams.get("charge");
      const intentId = url.searchParams.get("payment_intent");
      const matching = [...refunds.values()].filter(
        (r) => (!charge || r.charge === charge) && (!intentId || r.payment_intent === intentId),
      );
      return { status: 200, body: listPage(matching, url, "/v1/refunds") };
    }
    return mock;
  }

  function unexpectedState(intent: Intent, action: string): Reply {
    return stripeError(
      400,
      "invalid_request_error",
      `This PaymentIntent's ${action} could not be performed because it has a status of ${intent.status}.`,
      {
        code: "payment_intent_unexpected_state",
        payment_intent: intent,
      },
    );
  }

  /** A customer as Stripe shows it: without the proxy's own list of attached methods. */
  function customerView(customer: Record<string, unknown> & { attached: Set<string> }) {
    const { attached: _, ...shown } = customer;
    return { ...shown, object: "customer" };
  }

  function confirm(intent: Intent, form: Map<string, string>, expand: boolean): Reply {
    if (!["requires_confirmation", "requires_payment_method"].includes(intent.status))
      return unexpectedState(intent, "confirm");
    const pm = form.get("payment_method") ?? intent.payment_method;
    if (!pm)
      return stripeError(400, "invalid_request_error", "You must provide a payment method", {
        code: "payment_intent_unexpected_state",
      });
    intent.payment_method = pm;
    const decline = DECLINES[pm];
    if (decline) {
      intent.status = "requires_payment_method";
      return stripeError(402, "card_error", decline.message, {
        ...decline,
        payment_intent: view(intent, false),
      });
    }
    if (form.get("off_session") === "true") intent.off_session = true;
    if (REQUIRES_ACTION.has(pm) && intent.off_session) {
      // Off session, nobody can authenticate: Stripe declines (https://docs.stripe.com/declines/codes).
      intent.status = "requires_payment_method";
      return stripeError(402, "card_error", "This payment requires authentication by the customer.", {
        code: "authentication_required",
        decline_code: "authentication_required",
        payment_intent: view(intent, false),
      });
    }
    if (REQUIRES_ACTION.has(pm)) {
      intent.status = "requires_action";
      return { status: 200, body: view(intent, expand) };
    }
    intent.latest_charge = newId("ch");
    if (intent.capture_method === "manual") {
      Object.assign(intent, { status: "requires_capture", amount_capturable: intent.amount });
      count(intent, "authorizations");
    } else {
      Object.assign(intent, { status: "succeeded", amount_received: intent.amount });
      count(intent, "charges");
    }
    return { status: 200, body: view(intent, expand) };
  }

  function matchingFault(
    method: string,
    path: string,
    orderId: string | undefined,
    paymentMethod: string | null | undefined,
  ): (FaultRule & { left: number }) | undefined {
    return faults.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.pathIncludes === undefined || path.includes(f.pathIncludes)) &&
        (f.orderId === undefined || f.orderId === orderId) &&
        (f.paymentMethod === undefined || f.paymentMethod === paymentMethod),
    );
  }

  const stripeEvent = (type: string, object: unknown) => ({
    id: newId("evt"),
    object: "event",
    api_version: STRIPE_EVENT_API_VERSION,
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });

  async function dashboardRefund(input: {
    payment_intent: string;
    amount?: number;
    deliver?: boolean;
  }): Promise<DashboardRefund> {
    const intent = intents.get(input.payment_intent);
    if (!intent) return { status: 404, error: "no such payment_intent", events: [], delivered: [] };
    const refundable = intent.amount_received - intent.amount_refunded;
    const amount = input.amount ?? refundable;
    if (intent.status !== "succeeded" || amount > refundable || amount <= 0)
      return { status: 400, error: `cannot refund ${amount} of ${refundable}`, events: [], delivered: [] };
    const mock = await fetch(`${options.stripeMockUrl}/v1/refunds`, {
      method: "POST",
      headers: {
        authorization: "Bearer sk_test_dashboard",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: `payment_intent=${encodeURIComponent(intent.id)}&amount=${amount}`,
    });
    intent.amount_refunded += amount;
    count(intent, "refunds");
    const refund = {
      ...((await mock.json()) as object),
      id: newId("re"),
      amount,
      currency: intent.currency,
      payment_intent: intent.id,
      charge: intent.latest_charge,
      status: "succeeded",
      metadata: {},
      created: Math.floor(Date.now() / 1000),
    };
    refunds.set(refund.id, refund);
    const canned = (await (
      await fetch(
        `${options.stripeMockUrl}/v1/charges/${encodeURIComponent(intent.latest_charge ?? "ch_x")}`,
        {
          headers: { authorization: "Bearer sk_test_dashboard" },
        },
      )
    ).json()) as Record<string, unknown>;
    // The pinned API version sends no refunds list on a charge (stripe-mock's fixture is older).
    const { refunds: _list, ...charge } = canned;
    const events = [
      stripeEvent("refund.created", refund),
      stripeEvent("charge.refunded", {
        ...charge,
        id: intent.latest_charge,
        amount: intent.amount_received,
        amount_captured: intent.amount_received,
        amount_refunded: intent.amount_refunded,
        refunded: intent.amount_refunded >= intent.amount_received,
        captured: true,
        paid: true,
        status: "succeeded",
        currency: intent.currency,
        payment_intent: intent.id,
        metadata: {},
      }),
    ];
    const delivered: number[] = [];
    if (input.deliver && options.webhook) {
      for (const event of events) {
        const payload = JSON.stringify(event);
        const response = await fetch(options.webhook.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "stripe-signature": stripeSignatureHeader(payload, options.webhook.secret),
          },
          body: payload,
        });
        delivered.push(response.status);
        await response.arrayBuffer();
      }
    }
    return { status: 200, refund, events, delivered };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? "/", "http://proxy");
    const method = req.method ?? "GET";
    if (method === "GET" && url.pathname === "/_proxy/ledger") {
      // Not Stripe's: what moved money per order, for `npm run simulate` (a separate process).
      const prefix = url.searchParams.get("orderPrefix") ?? "";
      const orders = Object.fromEntries([...byOrder].filter(([order]) => order.startsWith(prefix)));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ orders }));
      return;
    }
    if (method === "POST" && url.pathname === "/_proxy/dashboard/refunds") {
      // Not Stripe's API: what a person does in Stripe's dashboard (SPEC §4.5).
      const input = JSON.parse(body || "{}") as {
        payment_intent: string;
        amount?: number;
        deliver?: boolean;
      };
      const made = await dashboardRefund(input);
      res.writeHead(made.status, { "content-type": "application/json" });
      res.end(JSON.stringify(made));
      return;
    }
    const form = parseForm(body);
    const intentId = url.pathname.split("/")[3];
    const known = intentId ? intents.get(intentId) : intents.get(form.get("payment_intent") ?? "");
    const orderId = metadataOf(form).orderId ?? known?.metadata.orderId;
    const paymentId = metadataOf(form).paymentId ?? known?.metadata.paymentId;
    const key = req.headers["idempotency-key"] as string | undefined;
    const record = (status: number, extra: Partial<ProxyCall> = {}) =>
      calls.push({
        method,
        path: url.pathname,
        idempotencyKey: key,
        replayed: false,
        status,
        orderId,
        paymentId,
        params: Object.fromEntries(form),
        ...extra,
      });
    const send = (reply: Reply, headers: Record<string, string> = {}) => {
      res.writeHead(reply.status, {
        "content-type": "application/json",
        "request-id": newId("req"),
        ...headers,
      });
      res.end(JSON.stringify(reply.body));
    };

    const found = matchingFault(
      method,
      url.pathname,
      orderId,
      form.get("payment_method") ?? known?.payment_method,
    );
    if (found) found.left -= 1;
    // "lost" and "slow" let the request through; the others answer in Stripe's place.
    const fault = found && found.respond !== "lost" && found.respond !== "slow" ? found : undefined;
    if (fault) {
      const status = typeof fault.respond === "number" ? fault.respond : 0;
      record(status, { fault: fault.respond });
      if (status === 0) {
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 15_000));
        res.destroy();
        return;
      }
      const type = status === 429 ? "rate_limit_error" : status === 402 ? "card_error" : "api_error";
      const extra = status === 402 ? { code: "card_declined", decline_code: "generic_decline" } : {};
      send(stripeError(status, type, `injected ${status} by the test proxy`, extra));
      return;
    }

    const fingerprint = `${method} ${url.pathname} ${body}`;
    if (key && method === "POST") {
      if (inFlight.has(key)) {
        // Stripe's answer to a second request with a key whose first request is still running.
        record(409);
        send(
          stripeError(
            409,
            "invalid_request_error",
            "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later.",
            { code: "idempotency_key_in_use" },
          ),
        );
        return;
      }
      const cached = idempotency.get(key);
      if (cached) {
        if (cached.fingerprint !== fingerprint) {
          record(400);
          send(
            stripeError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}'.`,
            ),
          );
          return;
        }
        record(cached.reply.status, { replayed: true });
        send(cached.reply, { "idempotent-replayed": "true" });
        return;
      }
    }
    if (key && method === "POST") inFlight.add(key);
    let reply: Reply;
    try {
      if (found?.respond === "slow")
        await new Promise((resolve) => setTimeout(resolve, found.delayMs ?? 500));
      reply = stateful(method, url, form, await forward(req, `${url.pathname}${url.search}`, body));
      if (key && method === "POST") idempotency.set(key, { fingerprint, reply });
    } finally {
      if (key) inFlight.delete(key);
    }
    if (found?.respond === "lost") {
      // Stripe did it; the answer never reaches the caller.
      record(0, { fault: "lost" });
      await new Promise((resolve) => setTimeout(resolve, found.delayMs ?? 15_000));
      res.destroy();
      return;
    }
    record(reply.status);
    send(reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { type: "api_error", message: `proxy: ${(error as Error).message}` } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    ledger: () => ({ byOrder, byPayment }),
    effectiveCallsByKey() {
      const counts = new Map<string, number>();
      for (const c of calls) {
        const done = c.fault === "lost" || (!c.fault && c.status > 0 && c.status < 500 && c.status !== 409);
        if (c.idempotencyKey && !c.replayed && done)
          counts.set(c.idempotencyKey, (counts.get(c.idempotencyKey) ?? 0) + 1);
      }
      return counts;
    },
    dashboardRefund,
    injectFaults(rules) {
      faults = [...faults, ...rules.map(armed)];
    },
    clearFaults() {
      faults = [];
    },
    forgetIdempotencyKeys() {
      idempotency.clear();
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
