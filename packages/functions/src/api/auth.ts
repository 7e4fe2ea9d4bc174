import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { jwt, sign } from "hono/jwt";
import { problem, problemResponse } from "./problem";

export type Scope = "payments:read" | "payments:write";

/** What a verified token says about the caller. */
export interface Caller {
  readonly subject: string;
  readonly scopes: readonly string[];
}

export type AuthVariables = { jwtPayload: { sub?: string; scope?: string } };

/** The `iss` and `aud` a token must carry, when set (`JWT_ISSUER`, `JWT_AUDIENCE`; SPEC §4.2). */
export interface ExpectedClaims {
  readonly issuer?: string;
  readonly audience?: string;
}

/** `JWT_ISSUER` and `JWT_AUDIENCE` from the environment; unset or empty means not checked. */
export const expectedClaimsFrom = (env: NodeJS.ProcessEnv = process.env): ExpectedClaims => ({
  issuer: env.JWT_ISSUER || undefined,
  audience: env.JWT_AUDIENCE || undefined,
});

/**
 * Bearer JWT on the payment routes (SPEC §4.2): HS256 only (a token signed another way, or with
 * `alg: none`, is refused), the secret read on first use, `exp` required and enforced, `sub`
 * required (an Idempotency-Key is scoped to it: no two callers may share one space), `iss` and
 * `aud` checked when configured. 401 without a valid token.
 */
export function bearerJwt(
  secret: () => string,
  expected: () => ExpectedClaims = () => expectedClaimsFrom(),
): MiddlewareHandler {
  let verify: MiddlewareHandler | undefined;
  return (c, next) => {
    verify ??= jwt({ secret: secret(), alg: "HS256", realm: "payments" });
    return verify(c, async () => {
      if (refusedClaim(c.get("jwtPayload"), expected()))
        throw new HTTPException(401, { message: "token claims" });
      await next();
    });
  };
}

/**
 * The claim of a verified token that refuses it, if any: `exp` or `sub` missing (every token
 * carries both), or `iss` / `aud` other than expected. `aud` may be one audience or a list.
 */
export function refusedClaim(
  payload: unknown,
  expected: ExpectedClaims = {},
): "exp" | "sub" | "iss" | "aud" | undefined {
  const claims = (payload ?? {}) as { exp?: unknown; sub?: unknown; iss?: unknown; aud?: unknown };
  if (typeof claims.exp !== "number" || !Number.isFinite(claims.exp)) return "exp";
  if (typeof claims.sub !== "string" || claims.sub.length === 0) return "sub";
  if (expected.issuer !== undefined && claims.iss !== expected.issuer) return "iss";
  if (expected.audience !== undefined) {
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(expected.audience)) return "aud";
  }
  return undefined;
}

/** 403 unless the token's space-separated `scope` claim holds `scope`. */
export function requireScope(scope: Scope): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    if (!callerOf(c.get("jwtPayload")).scopes.includes(scope)) {
      return problemResponse(
        problem(403, "forbidden", "Missing scope", `this route needs a token with the scope ${scope}`),
      );
    }
    await next();
  };
}

export function callerOf(payload: AuthVariables["jwtPayload"] | undefined): Caller {
  return {
    subject: typeof payload?.sub === "string" && payload.sub ? payload.sub : "anonymous",
    scopes: typeof payload?.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [],
  };
}

/**
 * A bearer token for the dev stack and tests (`npm run token`), with `iss` and `aud` from
 * `JWT_ISSUER` / `JWT_AUDIENCE` when they are set.
 * @example await issueToken("dev-secret", { subject: "dev", scopes: ["payments:read"] })
 */
export function issueToken(
  secret: string,
  {
    subject = "dev",
    scopes = ["payments:read", "payments:write"] as readonly Scope[],
    ttlSeconds = 12 * 3600,
    issuer = expectedClaimsFrom().issuer,
    audience = expectedClaimsFrom().audience,
  }: {
    subject?: string;
    scopes?: readonly Scope[];
    ttlSeconds?: number;
    issuer?: string;
    audience?: string;
  } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      sub: subject,
      scope: scopes.join(" "),
      iat: now,
      exp: now + ttlSeconds,
      ...(issuer ? { iss: issuer } : {}),
      ...(audience ? { aud: audience } : {}),
    },
    secret,
    "HS256",
  );
}
