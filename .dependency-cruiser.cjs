/** The dependency rules of STYLE.md, checked in CI (`npm run lint`). */
module.exports = {
  forbidden: [
    {
      name: "core-is-pure",
      comment:
        "The domain core depends on zod and events/ only: no AWS SDK, sst, electrodb, hono, kafkajs, stripe.",
      severity: "error",
      from: { path: "^packages/core/src" },
      to: { path: "node_modules/(@aws-sdk|sst|electrodb|hono|@hono|kafkajs|stripe|@aws-lambda-powertools)/" },
    },
    {
      name: "core-depends-on-nothing-of-ours-but-events",
      severity: "error",
      from: { path: "^packages/core/src" },
      to: { path: "^packages/(adapters|functions|local|cli|topology)/" },
    },
    {
      name: "adapters-never-import-functions",
      severity: "error",
      from: { path: "^packages/adapters/src" },
      to: { path: "^packages/(functions|local|cli)/" },
    },
    {
      name: "functions-never-import-local-or-cli",
      severity: "error",
      from: { path: "^packages/functions/src" },
      to: { path: "^packages/(local|cli)/" },
    },
    {
      name: "topology-is-plain-data",
      comment: "Its own tests may import the test runner.",
      severity: "error",
      from: { path: "^packages/topology/src", pathNot: "\\.test\\.ts$" },
      to: { path: "^(packages/(core|adapters|functions|local|cli)/|node_modules/)" },
    },
    {
      name: "infrastructure-never-imports-local",
      severity: "error",
      from: { path: "^(stacks/|sst\\.config\\.ts)" },
      to: { path: "^packages/(local|cli)/" },
    },
    {
      name: "events-is-a-contract",
      severity: "error",
      from: { path: "^events/" },
      to: { path: "^packages/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: true,
    exclude: { path: "(^|/)\\.sst/" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
