import { GatewayDeclinedError, GatewayRequestError, GatewayUnavailableError } from "@payments/core";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { mapStripeError } from "./stripe-gateway";

describe("Stripe errors", () => {
  const raw = (type: string, statusCode: number, extra: Record<string, unknown> = {}) =>
    ({ type, message: `${type} happened`, statusCode, ...extra }) as never;

  it("make a card error a decline, kept with its codes", () => {
    const mapped = mapStripeError(
      new Stripe.errors.StripeCardError(
        raw("card_error", 402, { code: "card_declined", decline_code: "insufficient_funds" }),
      ),
    );
    expect(mapped).toBeInstanceOf(GatewayDeclinedError);
    expect(mapped).toMatchObject({ code: "card_declined", declineCode: "insufficient_funds" });
  });

  it("make 5xx, 429, connection and authentication errors retryable", () => {
    expect(mapStripeError(new Stripe.errors.StripeAPIError(raw("api_error", 500)))).toBeInstanceOf(
      GatewayUnavailableError,
    );
    expect(
      mapStripeError(new Stripe.errors.StripeRateLimitError(raw("rate_limit_error", 429))),
    ).toBeInstanceOf(GatewayUnavailableError);
    expect(
      mapStripeError(new Stripe.errors.StripeConnectionError(raw("api_connection_error", 0))),
    ).toBeInstanceOf(GatewayUnavailableError);
    expect(
      mapStripeError(new Stripe.errors.StripeAuthenticationError(raw("authentication_error", 401))),
    ).toBeInstanceOf(GatewayUnavailableError);
  });

  it("make an invalid request a request error that no retry can fix", () => {
    const mapped = mapStripeError(
      new Stripe.errors.StripeInvalidRequestError(
        raw("invalid_request_error", 400, { code: "resource_missing" }),
      ),
    );
    expect(mapped).toBeInstanceOf(GatewayRequestError);
    expect(mapped).toMatchObject({ code: "resource_missing" });
  });

  it("leave other errors as they are", () => {
    const plain = new TypeError("boom");
    expect(mapStripeError(plain)).toBe(plain);
  });
});
