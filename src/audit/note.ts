/**
 * What a surface tells the audit trail about the request it serves (src/audit/capture.ts reads
 * it once the response is ready). Types only, so the request context can carry it.
 */

/** eventSource of a record: which way in the call came. */
export type AuditSource = "ecr.amazonaws.com" | "registry-admin" | "registry-token" | "registry-jobs";

export interface AuditNote {
  /** The action: an ECR action name (`PutImage`), an admin action (`iam:CreateUser`), ... */
  eventName?: string;
  source?: AuditSource;
  repository?: string;
  digest?: string;
  /** The call's parameters; secrets are replaced before the record is stored (./record.ts). */
  requestParameters?: Record<string, unknown>;
  /** A read on the pull path: counted per principal, repository, action and minute, not one row each. */
  aggregate?: boolean;
  /** The action changes nothing (CloudTrail's readOnly). */
  readOnly?: boolean;
  /** Credentials came outside the Authorization header (the token service's form grants). */
  credentialsPresented?: boolean;
  /** The access key id those credentials named (never their secret). */
  accessKeyId?: string;
}
