// The decisions of `npm run deploy` (scripts/deploy.mjs), apart from running anything: from
// what wrangler reports about the account, which resources to create, which id to write
// into wrangler.toml and which secrets are missing. Pure (no I/O), so every decision is
// unit-tested offline (scripts/deploy-plan.test.ts) although the deploy itself needs a
// Cloudflare account.

/** The database_id wrangler.toml ships with, to be replaced by the real one. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

/** The secrets the Worker needs, in groups generated together (the admin key is a pair). */
export const SECRET_GROUPS = [
  ["REGISTRY_ADMIN_ACCESS_KEY_ID", "REGISTRY_ADMIN_SECRET_ACCESS_KEY"],
  ["REGISTRY_TOKEN_SIGNING_KEY"],
  ["REGISTRY_SECRETS_KEY"],
];

/** The names of the D1 database, R2 bucket and Worker that wrangler.toml declares. */
export function resourcesOf(config) {
  const database = config.d1_databases?.find((entry) => entry.binding === "DB");
  const bucket = config.r2_buckets?.find((entry) => entry.binding === "BLOBS");
  if (!database || !bucket || !config.name)
    throw new Error("wrangler.toml must declare the Worker's name, the D1 binding DB and the R2 binding BLOBS");
  // Simulated geography delays every storage call on purpose: benchmarks and tests only.
  if (config.vars?.REGISTRY_SIMULATED_GEOGRAPHY !== undefined)
    throw new Error("[vars] sets REGISTRY_SIMULATED_GEOGRAPHY, which is for benchmarks and tests only: remove it");
  return {
    worker: config.name,
    databaseName: database.database_name,
    databaseId: database.database_id ?? null,
    bucketName: bucket.bucket_name,
  };
}

/**
 * The queues wrangler.toml names (producers, consumers and their dead-letter queues), each
 * once, in the order declared: `wrangler deploy` refuses a Worker bound to a queue that does
 * not exist.
 */
export function queuesOf(config) {
  const names = [
    ...(config.queues?.producers ?? []).map((producer) => producer.queue),
    ...(config.queues?.consumers ?? []).flatMap((consumer) => [consumer.queue, consumer.dead_letter_queue]),
  ].filter((name) => typeof name === "string" && name !== "");
  return [...new Set(names)];
}

/**
 * What to do about the D1 database, from `wrangler d1 list --json` (an array of
 * { uuid, name, ... }): "configured" when wrangler.toml already names a real id, "write-id"
 * with the id of the account's database of that name, or "create".
 */
export function databaseDecision(resources, listJson) {
  if (resources.databaseId && resources.databaseId !== PLACEHOLDER_DATABASE_ID)
    return { action: "configured", id: resources.databaseId };
  const databases = JSON.parse(listJson);
  if (!Array.isArray(databases)) throw new Error("wrangler d1 list --json did not answer a list");
  const found = databases.find((database) => database?.name === resources.databaseName);
  return found ? { action: "write-id", id: String(found.uuid) } : { action: "create" };
}

/**
 * The regional replica buckets wrangler.toml declares: each region=BINDING pair of
 * [vars] REPLICA_REGIONS with the bucket bound as BINDING and the R2 location hint nearest the
 * region (null when R2 has none near it).
 */
export function replicaBucketsOf(config) {
  const text = config.vars?.REPLICA_REGIONS;
  if (typeof text !== "string" || text.trim() === "") return [];
  return text.split(",").map((entry) => {
    const [region = "", binding = ""] = entry.split("=").map((part) => part.trim());
    const bucket = config.r2_buckets?.find((candidate) => candidate.binding === binding);
    if (!bucket)
      throw new Error(
        `REPLICA_REGIONS maps ${region} to ${binding}, and wrangler.toml binds no R2 bucket as ${binding}`,
      );
    return { region, bucketName: bucket.bucket_name, locationHint: locationHintOf(region) };
  });
}

/** R2's location hint for an AWS region name: wnam, enam, weur, eeur, apac, oc; null for others. */
export function locationHintOf(region) {
  if (/^us-west-/.test(region)) return "wnam";
  if (/^(us-east-|ca-|us-gov-)/.test(region)) return "enam";
  if (/^eu-(central|east)-/.test(region)) return "eeur";
  if (/^eu-/.test(region)) return "weur";
  if (/^ap-southeast-(2|4)$/.test(region)) return "oc";
  if (/^ap-/.test(region)) return "apac";
  return null;
}

/** The bucket names in `wrangler r2 bucket list`'s output (`name: <bucket>` lines). */
export function bucketNames(listText) {
  return [...listText.matchAll(/^name:\s+(\S+)\s*$/gm)].map((match) => match[1]);
}

/** wrangler.toml's text with the DB binding's database_id set to `id` (only the placeholder is replaced). */
export function withDatabaseId(tomlText, id) {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`"${id}" is not a D1 database id`);
  const line = new RegExp(`^(\\s*database_id\\s*=\\s*)"${PLACEHOLDER_DATABASE_ID}"`, "m");
  if (!line.test(tomlText))
    throw new Error(`wrangler.toml has no database_id = "${PLACEHOLDER_DATABASE_ID}" line to replace`);
  return tomlText.replace(line, `$1"${id}"`);
}

/**
 * Which secret groups the Worker lacks, from `wrangler secret list --format json` (an array
 * of { name, type }), or from null when the Worker does not exist yet (then all are missing);
 * `incomplete` lists groups only partly set ({ present, absent }: an admin key id without its
 * secret), which the deploy refuses to guess about.
 */
export function secretGroups(listJson) {
  const present = new Set(listJson === null ? [] : JSON.parse(listJson).map((secret) => secret.name));
  return {
    missing: SECRET_GROUPS.filter((group) => group.every((name) => !present.has(name))),
    incomplete: SECRET_GROUPS.filter(
      (group) => group.some((name) => present.has(name)) && !group.every((name) => present.has(name)),
    ).map((group) => ({
      present: group.filter((name) => present.has(name)),
      absent: group.filter((name) => !present.has(name)),
    })),
  };
}

/** The workers.dev (or custom) URL in `wrangler deploy`'s output, or null. */
export function deployedUrl(deployText) {
  return /https:\/\/\S+\.workers\.dev\b/.exec(deployText)?.[0] ?? null;
}
