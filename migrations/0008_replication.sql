CREATE TABLE `replication_items` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`repository` text NOT NULL,
	`digest` text NOT NULL,
	`tag` text,
	`registry_id` text NOT NULL,
	`region` text NOT NULL,
	`status` text NOT NULL,
	`failure_code` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `replication_items_image` ON `replication_items` (`repository`,`digest`);--> statement-breakpoint
CREATE INDEX `replication_items_due` ON `replication_items` (`next_attempt_at`) WHERE "replication_items"."status" = 'IN_PROGRESS';