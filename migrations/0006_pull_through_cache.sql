CREATE TABLE `pull_through_upstream_status` (
	`prefix` text PRIMARY KEY NOT NULL,
	`last_contact_at` integer NOT NULL,
	`last_status` integer NOT NULL,
	`rate_limit_limit` text,
	`rate_limit_remaining` text,
	`rate_limit_source` text,
	`rate_limited_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`manifest_requests` integer DEFAULT 0 NOT NULL,
	`blob_requests` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `tags` ADD `validated_at` integer;