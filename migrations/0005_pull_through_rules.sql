CREATE TABLE `pull_through_cache_rules` (
	`prefix` text PRIMARY KEY NOT NULL,
	`upstream_registry_url` text NOT NULL,
	`upstream_registry` text NOT NULL,
	`upstream_repository_prefix` text,
	`credential_arn` text,
	`custom_role_arn` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `registry_secrets` (
	`name` text PRIMARY KEY NOT NULL,
	`sealed` text NOT NULL,
	`updated_at` integer NOT NULL
);
