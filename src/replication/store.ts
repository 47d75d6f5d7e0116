/**
 * Where the registry's replication configuration is kept: one registry setting holding the
 * canonical JSON that PutReplicationConfiguration accepted.
 */
import { EcrError, RegistryError } from "../errors";
import { isObject } from "../input";
import type { Database } from "../storage/database";
import { findRegistrySetting, putRegistrySetting } from "../storage/registry-settings";
import { EMPTY_CONFIGURATION, parseReplicationConfiguration, type ReplicationConfiguration } from "./configuration";

const REPLICATION_CONFIGURATION = "replicationConfiguration";

export async function readReplicationConfiguration(db: Database): Promise<ReplicationConfiguration> {
  const text = await findRegistrySetting(db, REPLICATION_CONFIGURATION);
  if (text === undefined) return EMPTY_CONFIGURATION;
  const stored: unknown = JSON.parse(text);
  // Written by writeReplicationConfiguration alone: a stored value that does not parse is a bug.
  const corrupt = (message: string) =>
    new RegistryError(EcrError.ServerException, `the stored replication configuration is unreadable: ${message}`);
  if (!isObject(stored)) throw corrupt("not a JSON object");
  return parseReplicationConfiguration(stored, null, corrupt);
}

export async function writeReplicationConfiguration(
  db: Database,
  configuration: ReplicationConfiguration,
  now: number,
): Promise<void> {
  await putRegistrySetting(db, REPLICATION_CONFIGURATION, JSON.stringify(configuration), now);
}
