import { zValidator } from "@hono/zod-validator";
import { commandId } from "@payments/core";
import { Hono } from "hono";
import * as z from "zod";
import type { SavedMethods } from "../payments/saved-methods";
import { bearerJwt, type ExpectedClaims, requireScope } from "./auth";
import { type ApiEnv, invalid } from "./payment-routes";

export const CustomerIdParam = z.strictObject({ id: commandId() });
export const AttachPaymentMethodBody = z.strictObject({
  /** A Stripe payment method (`pm_…`) the customer's card was saved as. */
  paymentMethodId: z.string().regex(/^pm_[A-Za-z0-9_]{1,250}$/, "a Stripe payment method id, pm_…"),
  /** Charge this one by default (off session, for order messages without a card token). */
  default: z.boolean().optional(),
});

export interface CustomerRoutesDeps {
  readonly savedMethods: () => SavedMethods;
  readonly jwtSecret: () => string;
  readonly expectedClaims?: () => ExpectedClaims;
}

/**
 * Saved payment methods (SPEC §4.2, §4.1 format B): `POST /customers/{id}/payment-methods`
 * `{paymentMethodId, default?}` attaches a method to the customer's Stripe Customer (created on
 * first use), with the write scope. The first one becomes the default unless told otherwise.
 */
export function customerRoutes(deps: CustomerRoutesDeps) {
  const app = new Hono<ApiEnv>();
  app.use("*", bearerJwt(deps.jwtSecret, deps.expectedClaims));
  return app.post(
    "/:id/payment-methods",
    requireScope("payments:write"),
    zValidator("param", CustomerIdParam, invalid),
    zValidator("json", AttachPaymentMethodBody, invalid),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      return c.json(await deps.savedMethods().attach(id, body.paymentMethodId, body.default), 200);
    },
  );
}
