CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`repository` text,
	`digest` text,
	`detail` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_events_repository` ON `audit_events` (`repository`,`at`);--> statement-breakpoint
CREATE TABLE `lifecycle_previews` (
	`repository` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`policy_text` text NOT NULL,
	`results` text,
	`started_at` integer NOT NULL,
	FOREIGN KEY (`repository`) REFERENCES `repositories`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `repositories` ADD `lifecycle_policy` text;--> statement-breakpoint
ALTER TABLE `repositories` ADD `lifecycle_evaluated_at` integer;--> statement-breakpoint
CREATE INDEX `manifests_indexes` ON `manifests` (`repository`) WHERE "manifests"."child_digests" != '[]';