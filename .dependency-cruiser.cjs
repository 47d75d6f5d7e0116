/**
 * The layer rules of src/, as code (run by `npm run lint`). LAYERS lists the layers from the
 * top (what the runtime calls) to the bottom (vocabulary that imports nothing of ours but
 * other leaves); the rules are generated from it:
 *   - a module may import its own layer and the layers below it, never a layer above;
 *   - a surface (one way in: /v2, the ECR API, /admin, ...) may not import another surface:
 *     what two surfaces share moves down to the image operations;
 *   - every module of src/ belongs to a layer (a new folder is placed here first);
 *   - no cycles, type-only imports included; no unresolvable imports; no test code in the Worker;
 *   - the writers only the repository's Durable Object may call are imported by it alone.
 * Tests (*.test.ts) may import any layer: they exercise a module in its context.
 */

/** A folder under src/ (every module in it) or one module of src/, as a path pattern. */
const folder = (name) => `^src/${name}/`;
const file = (name) => `^src/${name.replace(/\./g, "\\.")}$`;

const LAYERS = [
  {
    name: "entry",
    comment: "the Worker's exports and the Hono application that mounts the surfaces",
    paths: [file("index.ts"), file("app.ts")],
  },
  {
    name: "surfaces",
    comment: "one way in each; a surface parses its wire format and maps errors to it",
    surfaces: {
      distribution: [folder("distribution")], // /v2: the OCI distribution API
      control: [folder("control")], // POST /: the ECR API (SigV4, JSON actions)
      admin: [folder("admin")], // /admin: users, secrets, jobs, pull-through rules
      bench: [file("bench/routes.ts")], // /_bench: the benchmark's counters
      tokens: [file("auth/token-routes.ts")], // /token and /login: the token service
      console: [folder("console")], // to come: the web console
    },
  },
  {
    name: "operations",
    comment: "jobs and image operations every surface shares, and authorization",
    paths: [
      folder("images"),
      folder("jobs"),
      folder("pull-through"),
      folder("lifecycle"),
      folder("gc"),
      folder("auth"),
      // to come
      folder("replication"),
      folder("scanning"),
      folder("events"),
      folder("audit"),
    ],
  },
  {
    name: "request context",
    comment: "the Hono Env and variables (db, settings, caller) the surfaces and operations share",
    paths: [file("app-env.ts")],
  },
  {
    name: "repository object",
    comment: "the Durable Object per repository that serializes its writes, and its clients",
    paths: [folder("repository")],
  },
  {
    name: "storage",
    comment: "D1 (drizzle) and R2 access: records, keys, uploads",
    paths: [folder("storage")],
  },
  {
    name: "leaves",
    comment: "vocabulary and helpers that import nothing of ours but other leaves",
    paths: [
      folder("oci"),
      folder("config"),
      folder("auth/policy"),
      file("auth/caller.ts"),
      file("errors.ts"),
      file("bytes.ts"),
      file("input.ts"),
      file("request-body.ts"),
      file("bounded-map.ts"),
      file("bench/counters.ts"),
      file("bench/simulated-geography.ts"),
      file("bench/simulated-replica.ts"),
      folder("geo"),
      file("audit/note.ts"),
      file("events/envelope.ts"),
      file("events/pattern.ts"),
      file("events/messages.ts"),
    ],
  },
];

/** The paths of a layer (a surfaces layer: all its surfaces'). */
const pathsOf = (layer) => layer.paths ?? Object.values(layer.surfaces).flat();

// A module in two layers would be judged by both: the first (highest) layer that matches wins
// for its own rules, so a layer's paths exclude those of the layers listed after it that are
// more specific (src/auth/ is an operation, src/auth/policy/ a leaf, src/auth/token-routes.ts a
// surface).
const allPaths = LAYERS.flatMap(pathsOf);
const moreSpecific = (paths) =>
  allPaths.filter((p) => !paths.includes(p) && paths.some((q) => p.startsWith(q.replace(/\$$/, ""))));
const inLayer = (layer) => ({ path: pathsOf(layer), pathNot: moreSpecific(pathsOf(layer)) });

const TESTS = "\\.test\\.ts$";
const REPOSITORY_WRITES = file("storage/repository-writes.ts");
const REPOSITORY_OBJECT = file("repository/repository-object.ts");

const upward = LAYERS.slice(1).map((layer, index) => {
  const above = LAYERS.slice(0, index + 1);
  const from = inLayer(layer);
  const abovePaths = above.flatMap(pathsOf);
  // Modules of this layer or one below that sit inside a folder of a higher layer.
  const notAbove = moreSpecific(abovePaths).filter((p) => !abovePaths.includes(p));
  return {
    name: `layer-${layer.name.replace(/ /g, "-")}-not-up`,
    comment: `${layer.name} (${layer.comment}) may not import a layer above it: ${above.map((l) => l.name).join(", ")}`,
    severity: "error",
    from: { path: from.path, pathNot: [...from.pathNot, TESTS] },
    to: { path: abovePaths, pathNot: notAbove },
  };
});

const surfaces = LAYERS.filter((layer) => layer.surfaces).flatMap((layer) =>
  Object.entries(layer.surfaces).map(([name, paths]) => ({
    name: `surface-${name}-not-to-other-surfaces`,
    comment: `the ${name} surface may not import another surface: move what they share down a layer`,
    severity: "error",
    from: { path: paths, pathNot: TESTS },
    to: {
      path: Object.entries(layer.surfaces)
        .filter(([other]) => other !== name)
        .flatMap(([, p]) => p),
    },
  })),
);

module.exports = {
  forbidden: [
    ...upward,
    ...surfaces,
    {
      name: "layer-unplaced-module",
      comment: "every module of src/ belongs to a layer: add its folder or file to LAYERS in .dependency-cruiser.cjs",
      severity: "error",
      from: { path: "^src/", pathNot: [...allPaths, TESTS, "\\.d\\.ts$"] },
      to: {},
    },
    {
      name: "layer-unplaced-orphan",
      comment: "every module of src/ belongs to a layer: add its folder or file to LAYERS in .dependency-cruiser.cjs",
      severity: "error",
      from: { orphan: true, path: "^src/", pathNot: [...allPaths, TESTS, "\\.d\\.ts$"] },
      to: {},
    },
    {
      name: "layer-unplaced-dependency",
      comment: "every module of src/ belongs to a layer: add its folder or file to LAYERS in .dependency-cruiser.cjs",
      severity: "error",
      from: {},
      to: { path: "^src/", pathNot: [...allPaths, TESTS, "\\.d\\.ts$"] },
    },
    {
      name: "repository-writes-only-from-the-object",
      comment:
        "the tag, manifest and repository-row writers are the Durable Object's: every write of a repository goes through it (serialized per repository)",
      severity: "error",
      from: { pathNot: [REPOSITORY_OBJECT, file("storage/repository-writes.test.ts")] },
      to: { path: REPOSITORY_WRITES },
    },
    {
      name: "no-circular",
      comment:
        "no import cycles, type-only imports included: a cycle means two modules are one idea, or one is in the wrong layer",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that resolves to no file (cloudflare: modules are the runtime's)",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^cloudflare:" },
    },
    {
      name: "no-test-code-in-the-worker",
      comment: "the Worker (src/ less its tests) may not import tests or test helpers",
      severity: "error",
      from: { path: "^src/", pathNot: TESTS },
      to: { path: [TESTS, "^test/"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a cycle or an upward import of types is one all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
