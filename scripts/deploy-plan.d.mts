export const PLACEHOLDER_DATABASE_ID: string;
export const SECRET_GROUPS: string[][];
export interface DeployResources {
  worker: string;
  databaseName: string;
  databaseId: string | null;
  bucketName: string;
}
export function resourcesOf(config: {
  name?: string;
  vars?: Record<string, unknown>;
  d1_databases?: { binding: string; database_name: string; database_id?: string }[];
  r2_buckets?: { binding: string; bucket_name: string }[];
}): DeployResources;
export function databaseDecision(
  resources: DeployResources,
  listJson: string,
): { action: "configured" | "write-id"; id: string } | { action: "create" };
export function bucketNames(listText: string): string[];
export function withDatabaseId(tomlText: string, id: string): string;
export function secretGroups(listJson: string | null): {
  missing: string[][];
  incomplete: { present: string[]; absent: string[] }[];
};
export function deployedUrl(deployText: string): string | null;
export function replicaBucketsOf(config: {
  vars?: Record<string, unknown>;
  r2_buckets?: { binding: string; bucket_name: string }[];
}): { region: string; bucketName: string; locationHint: string | null }[];
export function locationHintOf(region: string): string | null;
export function queuesOf(config: {
  queues?: {
    producers?: { queue: string }[];
    consumers?: { queue: string; dead_letter_queue?: string }[];
  };
}): string[];
