import { foldPaymentView, type RecordedEvent } from "@payments/core";
import { loadSamples } from "@payments/events/samples";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { docsPage } from "./docs";
import { openApiDocument } from "./openapi";
import { PaymentViewSchema } from "./payment-schemas";

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(openApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("describes every route the app serves", () => {
    const paths = Object.keys(openApiDocument().paths as object);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/health",
        "/payments",
        "/payments/{id}",
        "/payments/{id}/events",
        "/payments/{id}/capture",
        "/payments/{id}/refund",
        "/payments/{id}/cancel",
        "/webhooks/stripe",
        "/webhooks/zalopay",
        "/webhooks/payos",
      ]),
    );
  });

  it("describes the view the fold really returns", () => {
    const byType = new Map(
      loadSamples("envelopes").map(({ body }) => [(body as RecordedEvent).type, body as RecordedEvent]),
    );
    const stream = [
      "PaymentInitiated",
      "PaymentScreened",
      "PaymentIntentCreated",
      "PaymentAuthorized",
      "PaymentCaptured",
      "PaymentRefunded",
      "PaymentFlagged",
    ].map((type, i) => ({ ...byType.get(type as RecordedEvent["type"])!, version: i + 1 }) as RecordedEvent);
    expect(PaymentViewSchema.parse(foldPaymentView(stream))).toMatchObject({
      status: "partially_refunded",
      version: 7,
    });
  });

  it("renders a docs page that loads nothing from elsewhere", () => {
    const html = docsPage(openApiDocument());
    expect(html).toContain("<code>/payments/{id}/refund</code>");
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });
});
