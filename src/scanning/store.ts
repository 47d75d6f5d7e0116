/**
 * Where the registry's scanning configuration is kept (one registry setting, the canonical
 * JSON PutRegistryScanningConfiguration accepted), and what applies to one repository.
 */
import { EcrError, RegistryError } from "../errors";
import type { Database } from "../storage/database";
import { findRegistrySetting, putRegistrySetting } from "../storage/registry-settings";
import {
  DEFAULT_SCANNING_CONFIGURATION,
  parseScanningConfiguration,
  type ScanningConfiguration,
} from "./configuration";

const SCANNING_CONFIGURATION = "scanningConfiguration";

export async function readScanningConfiguration(db: Database): Promise<ScanningConfiguration> {
  const text = await findRegistrySetting(db, SCANNING_CONFIGURATION);
  if (text === undefined) return DEFAULT_SCANNING_CONFIGURATION;
  // Written by writeScanningConfiguration alone: a stored value that does not parse is a bug.
  return parseScanningConfiguration(
    JSON.parse(text),
    (message) =>
      new RegistryError(EcrError.ServerException, `the stored scanning configuration is unreadable: ${message}`),
  );
}

export async function writeScanningConfiguration(
  db: Database,
  configuration: ScanningConfiguration,
  now: number,
): Promise<void> {
  await putRegistrySetting(db, SCANNING_CONFIGURATION, JSON.stringify(configuration), now);
}
