/**
 * Active tracing on every function of the service (SPEC §8): X-Ray through Powertools' Tracer,
 * which the functions load only when POWERTOOLS_TRACE_ENABLED is set (the bundle's import does
 * not evaluate the X-Ray SDK otherwise). Registered before the stacks create their functions, so
 * it reaches the ones SST creates for subscriptions, routes and crons too.
 */
export function traceEveryFunction() {
  $transform(sst.aws.Function, (args) => {
    args.environment = $output(args.environment ?? {}).apply((environment) => ({
      ...environment,
      POWERTOOLS_TRACE_ENABLED: "true",
      // A response can hold a payment: segments keep only timings and errors.
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
    }));
    args.permissions = $output(args.permissions ?? []).apply((permissions) => [
      ...permissions,
      { actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] },
    ]);
    const own = args.transform?.function;
    args.transform = {
      ...args.transform,
      function: (fn, opts, name) => {
        if (typeof own === "function") own(fn, opts, name);
        else if (own) Object.assign(fn, own);
        fn.tracingConfig = { mode: "Active" };
        return undefined;
      },
    };
  });
}
